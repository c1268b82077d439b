/**
 * The benchmark measures the compiled service (`npm run build` output in dist/), the same code
 * `npm start` runs. Modules are imported from dist at run time, typed by their sources.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type WasmSandboxModule = typeof import("../../src/sandbox/wasm/wasm-sandbox.js");
type ProcessSandboxModule = typeof import("../../src/sandbox/process/process-sandbox.js");
type ProcessRuntimesModule = typeof import("../../runtimes/process-runtimes.js");
type LoggerModule = typeof import("../../src/logger.js");

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export interface Dist {
  readonly root: string;
  readonly mainScript: string;
  readonly wasmSandbox: WasmSandboxModule;
  readonly processSandbox: ProcessSandboxModule;
  readonly processRuntimes: ProcessRuntimesModule;
  readonly logger: LoggerModule;
}

async function importFrom<T>(root: string, relative: string): Promise<T> {
  return (await import(pathToFileURL(join(root, "dist", relative)).href)) as T;
}

export async function loadDist(root: string = REPO_ROOT): Promise<Dist> {
  const mainScript = join(root, "dist", "src", "main.js");
  if (!existsSync(mainScript)) throw new Error(`${mainScript} is missing: run npm run build first`);
  return {
    root,
    mainScript,
    wasmSandbox: await importFrom<WasmSandboxModule>(root, "src/sandbox/wasm/wasm-sandbox.js"),
    processSandbox: await importFrom<ProcessSandboxModule>(root, "src/sandbox/process/process-sandbox.js"),
    processRuntimes: await importFrom<ProcessRuntimesModule>(root, "runtimes/process-runtimes.js"),
    logger: await importFrom<LoggerModule>(root, "src/logger.js"),
  };
}

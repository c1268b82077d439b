/**
 * Ruby 3.4 on WebAssembly (ruby.wasm, @ruby/3.4-wasm-wasi `ruby+stdlib.wasm`).
 *
 * load() (main thread, once):
 *   1. rewrite the module: memory 0 imported (a per-execution cap) and mutable globals exported;
 *   2. compile it;
 *   3. boot one interpreter (libc/wasi-vfs init + ruby_init with RubyGems, ~1-5 s) with no guest
 *      code, and snapshot its memory and globals (memory-snapshot.ts).
 * run() (worker, per execution): a new Instance with a new Memory capped at memoryLimitBytes,
 * restored from the snapshot (tens of ms instead of seconds), then the bootstrap (bootstrap.ts)
 * runs /workspace/main.rb. Nothing of the JS host is reachable (ruby-abi.ts seals the JS bridge).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import type { RuntimeInfo } from "../../src/sandbox/types.js";
import type { Runner, RuntimeAssets, WasmRuntime } from "../../src/sandbox/wasm/runtime.js";
import { exportMutableGlobals } from "../../wasm/host/global-export.js";
import { importMemory, type MemoryImportName } from "../../wasm/host/memory-import.js";
import { captureSnapshot, isMemoryZero, type MemorySnapshot } from "../../wasm/host/memory-snapshot.js";
import { createWasiHost } from "../../wasm/host/wasi-host.js";
import { createGuestFilesystem } from "../../wasm/host/wasi-workspace.js";
import { RubyGuest, sealedRubyImports } from "./ruby-abi.js";
import { createRubyRunner } from "./wasm-runner.js";

const PACKAGE = "@ruby/3.4-wasm-wasi";
const WASM_FILE = "dist/ruby+stdlib.wasm";
/** ruby_options arguments of the snapshot interpreter; `-e_=0` keeps it from reading a script. */
export const RUBY_INIT_ARGS = ["ruby", "-EUTF-8", "-e_=0"] as const;
/** Memory cap while booting the snapshot interpreter. */
const BOOT_MEMORY_BYTES = 512 * 1024 * 1024;

export interface RubyAssets {
  readonly module: WebAssembly.Module;
  readonly memoryImport: MemoryImportName;
  readonly minimumPages: number;
  readonly snapshot: MemorySnapshot;
  readonly rubyVersion: string;
  readonly packageVersion: string;
}

export function isRubyAssets(value: RuntimeAssets): value is RuntimeAssets & RubyAssets {
  return (
    value.module instanceof WebAssembly.Module &&
    typeof value.minimumPages === "number" &&
    typeof value.rubyVersion === "string" &&
    typeof value.snapshot === "object" &&
    value.snapshot !== null &&
    typeof value.memoryImport === "object"
  );
}

/** Path of ruby+stdlib.wasm inside the installed package (resolved, never hard-coded). */
export function rubyWasmPath(): string {
  return createRequire(import.meta.url).resolve(`${PACKAGE}/${WASM_FILE}`);
}

async function packageVersion(wasmPath: string): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL("../package.json", `file://${wasmPath}`), "utf8")) as {
    version?: unknown;
  };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}

/** Boot one interpreter with no guest code and capture it. */
async function bootSnapshot(
  module: WebAssembly.Module,
  memoryImport: MemoryImportName,
  minimumPages: number,
  globalNames: readonly string[],
): Promise<{ snapshot: MemorySnapshot; rubyVersion: string }> {
  const discard = { write: () => undefined, length: 0 };
  const fs = createGuestFilesystem({ files: [], maxFilesystemBytes: 0 });
  const host = createWasiHost({
    args: [],
    env: {},
    stdin: "",
    preopens: fs.preopens,
    context: { stdout: discard, stderr: discard, deadline: Number.POSITIVE_INFINITY, cancelled: () => false },
  });
  const memory = new WebAssembly.Memory({ initial: minimumPages, maximum: BOOT_MEMORY_BYTES / WASM_PAGE_BYTES });
  const instance = await WebAssembly.instantiate(module, {
    ...sealedRubyImports(module, memoryImport),
    wasi_snapshot_preview1: host.imports,
    [memoryImport.module]: { [memoryImport.name]: memory },
  });
  host.bind(instance);
  const freshMemoryWasZero = isMemoryZero(memory);
  const guest = new RubyGuest(instance);
  guest.initialize();
  guest.rubyInit(RUBY_INIT_ARGS);
  const version = guest.evalProtect("RUBY_VERSION");
  if (version.state !== 0) throw new Error("ruby.wasm failed to report RUBY_VERSION");
  const rubyVersion = guest.readString(version.value);
  return { snapshot: captureSnapshot(memory, instance, globalNames, freshMemoryWasZero), rubyVersion };
}

class RubyWasmRuntime implements WasmRuntime {
  readonly language = "ruby" as const;
  private loaded: RuntimeInfo = { name: "ruby.wasm", version: "3.4" };

  /** The interpreter's RUBY_VERSION once load() ran (e.g. "3.4.1"); the major line before. */
  get info(): RuntimeInfo {
    return this.loaded;
  }

  async load(): Promise<RuntimeAssets> {
    const wasmPath = rubyWasmPath();
    const original = new Uint8Array(await readFile(wasmPath));
    const withMemoryImport = importMemory(original);
    const rewritten = exportMutableGlobals(withMemoryImport.bytes);
    const module = await WebAssembly.compile(rewritten.bytes);
    const { snapshot, rubyVersion } = await bootSnapshot(
      module,
      withMemoryImport.memoryImport,
      withMemoryImport.minimumPages,
      rewritten.exportNames,
    );
    const pkg = await packageVersion(wasmPath);
    this.loaded = { name: "ruby.wasm", version: rubyVersion };
    const assets: RubyAssets = {
      module,
      memoryImport: withMemoryImport.memoryImport,
      minimumPages: withMemoryImport.minimumPages,
      snapshot,
      rubyVersion,
      packageVersion: pkg,
    };
    return assets as unknown as RuntimeAssets;
  }

  async createRunner(assets: RuntimeAssets): Promise<Runner> {
    if (!isRubyAssets(assets)) throw new Error("the ruby runtime was given assets it did not load");
    this.loaded = { name: "ruby.wasm", version: assets.rubyVersion };
    return createRubyRunner(assets);
  }
}

export const rubyWasmRuntime: WasmRuntime = new RubyWasmRuntime();

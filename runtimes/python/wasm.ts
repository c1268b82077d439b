/**
 * CPython 3.11 on WebAssembly: our own WASI reactor build (runtimes/python/build.sh, committed in
 * wasm/python/), no JS bridge of any kind: the module imports only wasi_snapshot_preview1 and memory.
 *
 * load() (loader thread, once):
 *   1. rewrite python.wasm for snapshots (wasm/host/snapshot-module.ts): memory 0 imported (a
 *      per-execution cap), mutable globals exported, active data segments made passive;
 *   2. compile it and read the pyc-only stdlib zip;
 *   3. boot one interpreter with no guest code (data segments applied by hand, pyreactor_init,
 *      preloaded modules) and snapshot its memory and globals (wasm/host/memory-snapshot.ts).
 *      The boot (boot.ts: steps 1-3 on its own copy) runs in a child process with Liftoff only
 *      (src/sandbox/wasm/boot-process.ts: no TurboFan tier-up competing for the cores), while this
 *      thread does steps 1-2 for the module executions use; both sides' layouts are compared.
 * createRunner() / after every run (worker, wasm-runner.ts): a SparePool prepares the next
 * never-used instance off the reply path: a new Instance on a new Memory capped at
 * memoryLimitBytes, restored from the snapshot. run(): attaches the execution's WASI host;
 * pyreactor_run then applies argv, env and cwd, reseeds `random` from WASI random_get, and runs
 * /workspace/main.py.
 */
import { readFile } from "node:fs/promises";
import type { RuntimeInfo } from "../../src/sandbox/types.js";
import { runBootProcess } from "../../src/sandbox/wasm/boot-process.js";
import type { Runner, RunnerOptions, RuntimeAssets, WasmRuntime } from "../../src/sandbox/wasm/runtime.js";
import type { MemorySnapshot } from "../../wasm/host/memory-snapshot.js";
import { rewriteForSnapshots } from "../../wasm/host/snapshot-module.js";
import { PYTHON_BOOT } from "../boot-entries.js";
import { PYTHON_ARTIFACTS, pythonArtifactPath } from "./artifacts.js";
import type { PythonBoot, PythonBootAssets } from "./boot.js";
import { readGuestLibrary } from "./guest-library.js";
import { createPythonRunner } from "./wasm-runner.js";

export const PYTHON_VERSION = "3.11.2";

export interface PythonAssets extends PythonBootAssets {
  readonly snapshot: MemorySnapshot;
}

export function isPythonAssets(value: RuntimeAssets): value is RuntimeAssets & PythonAssets {
  return (
    value.module instanceof WebAssembly.Module &&
    value.stdlib instanceof Uint8Array &&
    Array.isArray(value.library) &&
    typeof value.minimumPages === "number" &&
    typeof value.memoryImport === "object" &&
    value.memoryImport !== null &&
    typeof value.snapshot === "object" &&
    value.snapshot !== null
  );
}

/** load(): the boot in a Liftoff-only child process, the module compiled here meanwhile. */
async function loadWithBootProcess(): Promise<PythonAssets> {
  const booted = runBootProcess<PythonBoot>(PYTHON_BOOT);
  booted.catch(() => undefined);
  const [wasm, stdlib, library] = await Promise.all([
    readFile(pythonArtifactPath(PYTHON_ARTIFACTS.module)),
    readFile(pythonArtifactPath(PYTHON_ARTIFACTS.stdlib)),
    readGuestLibrary(),
  ]);
  const ready = await rewriteForSnapshots(new Uint8Array(wasm));
  const { snapshot, minimumPages, globalNames } = await booted;
  if (minimumPages !== ready.minimumPages || globalNames.join() !== ready.globalNames.join()) {
    throw new Error("python.wasm: the boot process rewrote the module differently; its snapshot does not fit");
  }
  return {
    module: ready.module,
    memoryImport: ready.memoryImport,
    minimumPages: ready.minimumPages,
    stdlib: new Uint8Array(stdlib),
    library,
    snapshot,
  };
}

class PythonWasmRuntime implements WasmRuntime {
  readonly language = "python" as const;
  readonly info: RuntimeInfo = { name: "cpython", version: PYTHON_VERSION };

  async load(): Promise<RuntimeAssets> {
    return (await loadWithBootProcess()) as unknown as RuntimeAssets;
  }

  async createRunner(assets: RuntimeAssets, options?: RunnerOptions): Promise<Runner> {
    if (!isPythonAssets(assets)) throw new Error("the python runtime was given assets it did not load");
    return createPythonRunner(assets, options);
  }
}

export const pythonWasmRuntime: WasmRuntime = new PythonWasmRuntime();

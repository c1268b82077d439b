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
 *      The boot (steps 1-3 on its own copy) runs in a child process with Liftoff only
 *      (src/sandbox/wasm/boot-process.ts: no TurboFan tier-up competing for the cores), while this
 *      thread does steps 1-2 for the module executions use; both sides' layouts are compared.
 * createRunner() / after every run (worker, wasm-runner.ts): a SparePool prepares the next
 * never-used instance off the reply path: a new Instance on a new Memory capped at
 * memoryLimitBytes, restored from the snapshot. run(): attaches the execution's WASI host;
 * pyreactor_run then applies argv, env and cwd, reseeds `random` from WASI random_get, and runs
 * /workspace/main.py.
 */
import { readFile } from "node:fs/promises";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import type { RuntimeInfo } from "../../src/sandbox/types.js";
import { runBootProcess } from "../../src/sandbox/wasm/boot-process.js";
import type { Runner, RuntimeAssets, WasmRuntime } from "../../src/sandbox/wasm/runtime.js";
import { applySegments, type DataSegment } from "../../wasm/host/detach-data.js";
import type { MemoryImportName } from "../../wasm/host/memory-import.js";
import { captureSnapshot, isMemoryZero, type MemorySnapshot } from "../../wasm/host/memory-snapshot.js";
import { instantiateFresh, rewriteForSnapshots } from "../../wasm/host/snapshot-module.js";
import { PYTHON_ARTIFACTS, pythonArtifactPath } from "./artifacts.js";
import { PythonGuest } from "./guest.js";
import { type LibraryFile, readGuestLibrary, SANDBOX_MODULES } from "./guest-library.js";
import { createPythonHost } from "./instance.js";
import { createPythonRunner } from "./wasm-runner.js";

export const PYTHON_VERSION = "3.11.2";

/**
 * Imported before the snapshot, so executions find them in sys.modules instead of unzipping,
 * unmarshalling and executing them (measured: json+re+datetime 137 ms -> 11 ms per run; the
 * snapshot grows from 4.3 to 7.9 MiB, about +2 ms per run). `random` is reseeded per execution.
 * Nothing here reads the environment, the workspace or randomness at import time except `random`.
 * asyncio is left out: +1.6 MiB of snapshot for every run, for a module inline code rarely uses.
 */
export const PRELOADED_MODULES: readonly string[] = [
  // text and data
  "json",
  "re",
  "string",
  "textwrap",
  "csv",
  "base64",
  "struct",
  "pprint",
  "copy",
  // numbers and time
  "math",
  "random",
  "decimal",
  "fractions",
  "statistics",
  "datetime",
  "time",
  // collections and functional tools
  "collections",
  "itertools",
  "functools",
  "operator",
  "heapq",
  "bisect",
  "enum",
  // typing and classes
  "typing",
  "dataclasses",
  // files, hashing, ids, errors
  "io",
  "pathlib",
  "hashlib",
  "uuid",
  "traceback",
  "linecache",
  // HTTP through the host (guest-library.ts); urllib.request is routed lazily, on its import
  ...SANDBOX_MODULES,
];

/** Memory cap while booting the snapshot interpreter. */
const BOOT_MEMORY_BYTES = 256 * 1024 * 1024;

export interface PythonAssets {
  readonly module: WebAssembly.Module;
  readonly memoryImport: MemoryImportName;
  readonly minimumPages: number;
  readonly stdlib: Uint8Array;
  /** The `sandbox` package's source files. */
  readonly library: readonly LibraryFile[];
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

/** Boot one interpreter with no guest code and capture it. */
export async function bootSnapshot(
  assets: Omit<PythonAssets, "snapshot">,
  segments: readonly DataSegment[],
  globalNames: readonly string[],
  preload: readonly string[] = PRELOADED_MODULES,
): Promise<MemorySnapshot> {
  const discard = { write: () => undefined, length: 0 };
  const memory = new WebAssembly.Memory({
    initial: assets.minimumPages,
    maximum: BOOT_MEMORY_BYTES / WASM_PAGE_BYTES,
  });
  const { instance, attach } = instantiateFresh(assets, memory);
  const { host } = createPythonHost(assets.stdlib, {
    files: [],
    stdin: "",
    maxFilesystemBytes: 0,
    library: assets.library,
    context: {
      stdout: discard,
      stderr: discard,
      deadline: Number.POSITIVE_INFINITY,
      cancelled: () => false,
      http: () => {
        throw new Error("the snapshot interpreter made an HTTP call while booting");
      },
    },
  });
  attach(host);
  const guest = new PythonGuest(instance, memory);
  // True with detached data: restore then copies only the stored pages into an untouched memory.
  const freshMemoryWasZero = isMemoryZero(memory);
  applySegments(memory, segments);
  guest.initialize();
  guest.init();
  guest.preload(preload);
  return captureSnapshot(memory, instance, globalNames, freshMemoryWasZero);
}

/** Compile the committed artifacts and boot the snapshot interpreter. */
export async function loadPythonAssets(preload: readonly string[] = PRELOADED_MODULES): Promise<PythonAssets> {
  const [wasm, stdlib, library] = await Promise.all([
    readFile(pythonArtifactPath(PYTHON_ARTIFACTS.module)),
    readFile(pythonArtifactPath(PYTHON_ARTIFACTS.stdlib)),
    readGuestLibrary(),
  ]);
  const ready = await rewriteForSnapshots(new Uint8Array(wasm));
  const base = {
    module: ready.module,
    memoryImport: ready.memoryImport,
    minimumPages: ready.minimumPages,
    stdlib: new Uint8Array(stdlib),
    library,
  };
  const snapshot = await bootSnapshot(base, ready.segments, ready.globalNames, preload);
  return { ...base, snapshot };
}

/** What the boot process sends back: the snapshot, and the layout it was taken against. */
export interface PythonBoot {
  readonly snapshot: MemorySnapshot;
  readonly minimumPages: number;
  readonly globalNames: readonly string[];
}

/** The boot, from the committed artifacts: runs in the child process started by load(). */
export async function bootPythonSnapshot(): Promise<PythonBoot> {
  const [wasm, stdlib, library] = await Promise.all([
    readFile(pythonArtifactPath(PYTHON_ARTIFACTS.module)),
    readFile(pythonArtifactPath(PYTHON_ARTIFACTS.stdlib)),
    readGuestLibrary(),
  ]);
  const ready = await rewriteForSnapshots(new Uint8Array(wasm));
  const base = { ...ready, stdlib: new Uint8Array(stdlib), library };
  const snapshot = await bootSnapshot(base, ready.segments, ready.globalNames);
  return { snapshot, minimumPages: ready.minimumPages, globalNames: ready.globalNames };
}

/** load(): the boot in a Liftoff-only child process, the module compiled here meanwhile. */
async function loadWithBootProcess(): Promise<PythonAssets> {
  const booted = runBootProcess<PythonBoot>({ module: import.meta.url, export: "bootPythonSnapshot" });
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

  async createRunner(assets: RuntimeAssets): Promise<Runner> {
    if (!isPythonAssets(assets)) throw new Error("the python runtime was given assets it did not load");
    return createPythonRunner(assets);
  }
}

export const pythonWasmRuntime: WasmRuntime = new PythonWasmRuntime();

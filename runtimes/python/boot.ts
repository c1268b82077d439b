/**
 * Python's one-time boot, run in the short-lived Liftoff-only child process that wasm.ts's load()
 * starts (src/sandbox/wasm/boot-process.ts calls bootPythonSnapshot by name; the loader starts it
 * before it imports the runtime, runtimes/boot-entries.ts). This module is the child's entry: it
 * imports only what the boot needs, not the service's runner code.
 *
 * Steps, on its own copy of python.wasm: rewrite it for snapshots (wasm/host/snapshot-module.ts),
 * boot one interpreter with no guest code (data segments applied by hand, pyreactor_init, the
 * preloaded modules), and capture its memory and globals (wasm/host/memory-snapshot.ts).
 */
import { readFile } from "node:fs/promises";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { applySegments, type DataSegment } from "../../wasm/host/detach-data.js";
import type { MemoryImportName } from "../../wasm/host/memory-import.js";
import { captureSnapshot, isMemoryZero, type MemorySnapshot } from "../../wasm/host/memory-snapshot.js";
import { instantiateFresh, rewriteForSnapshots } from "../../wasm/host/snapshot-module.js";
import { PYTHON_ARTIFACTS, pythonArtifactPath } from "./artifacts.js";
import { PythonGuest } from "./guest.js";
import { type LibraryFile, readGuestLibrary, SANDBOX_MODULES } from "./guest-library.js";
import { createPythonHost } from "./instance.js";

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

/** What an interpreter boots from: the module rewritten for snapshots and the files it reads. */
export interface PythonBootAssets {
  readonly module: WebAssembly.Module;
  readonly memoryImport: MemoryImportName;
  readonly minimumPages: number;
  readonly stdlib: Uint8Array;
  /** The `sandbox` package's source files. */
  readonly library: readonly LibraryFile[];
}

/** Boot one interpreter with no guest code and capture it. */
export async function bootSnapshot(
  assets: PythonBootAssets,
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

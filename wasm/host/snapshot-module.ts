/**
 * The generic snapshot builder for WASI modules (used by Python and Ruby), in three steps:
 *
 * 1. `rewriteForSnapshots(bytes)` (once; `prepareForSnapshots` without the compile): memory 0
 *    imported so every instance gets its own capped Memory, every mutable global exported so it can
 *    be captured and restored, and active data segments taken out (detach-data.ts) so a new memory
 *    starts all zero (the snapshot carries their bytes).
 * 2. The runtime boots one interpreter with `instantiateFresh` on a memory to which it applied the
 *    segments (`applySegments`), runs its trusted initialisation, and captures it (memory-snapshot.ts).
 * 3. `prepareRestored(target, limit)` (worker, per execution, ahead of time through a SparePool): a
 *    new Memory capped at the execution's limit, a new Instance, the snapshot copied in. Its WASI
 *    imports forward to a host that does not exist yet: the execution's WASI host (files, stdin,
 *    output sinks, deadline) is attached when the execution starts, so an instance can be prepared
 *    before its request is known. Restoring runs no guest code, so nothing calls WASI before that.
 */
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { type DataSegment, detachDataSection } from "./detach-data.js";
import { exportMutableGlobals } from "./global-export.js";
import { importMemory, type MemoryImportName } from "./memory-import.js";
import { type MemorySnapshot, overwriteWithSnapshot, restoreSnapshot } from "./memory-snapshot.js";
import { PREVIEW1_FUNCTIONS, type WasiHost } from "./wasi-host.js";
import { putSection, readSections, SectionId, writeModule } from "./wasm-binary.js";

const WASI_MODULE = "wasi_snapshot_preview1";

export interface SnapshotReadyModule {
  readonly module: WebAssembly.Module;
  readonly memoryImport: MemoryImportName;
  /** The smallest memory the module accepts, in pages. */
  readonly minimumPages: number;
  /** Export names of the mutable globals, for captureSnapshot. */
  readonly globalNames: readonly string[];
  /** The former active data segments: apply them to the boot interpreter's memory only. */
  readonly segments: readonly DataSegment[];
}

/** Step 1 before compiling: the rewritten module's bytes and what the boot and restores need. */
export interface SnapshotReadyBytes extends Omit<SnapshotReadyModule, "module"> {
  readonly bytes: Uint8Array<ArrayBuffer>;
  /**
   * True when instantiating the rewritten module writes nothing to its memory (no active data
   * segment, no start function): a memory made for it is then all zero until its code runs.
   */
  readonly freshMemoryIsZero: boolean;
}

/** The sections importMemory and exportMutableGlobals read and rewrite; they leave every other one as it is. */
const HEADER_SECTIONS: ReadonlySet<number> = new Set([
  SectionId.import,
  SectionId.memory,
  SectionId.global,
  SectionId.export,
]);

/**
 * Rewrite a WASI module for snapshots (step 1) without compiling it: the same bytes as
 * detachActiveData, then importMemory, then exportMutableGlobals, with the module copied once. The
 * two header rewrites run on a module of just the sections they touch (a few KB), whose results
 * replace those sections, instead of each copying the whole module (12 MB of ruby.wasm's code).
 * The segments are views into `bytes`: keep it unchanged while they are used.
 */
export function prepareForSnapshots(bytes: Uint8Array): SnapshotReadyBytes {
  const sections = readSections(bytes);
  const withMemoryImport = importMemory(writeModule(sections.filter((s) => HEADER_SECTIONS.has(s.id))));
  const withGlobals = exportMutableGlobals(withMemoryImport.bytes);
  let out = sections.filter((s) => !HEADER_SECTIONS.has(s.id));
  for (const section of readSections(withGlobals.bytes)) out = putSection(out, section);
  const data = out.find((s) => s.id === SectionId.data);
  const detached = data ? detachDataSection(data.content) : undefined;
  if (detached) out = putSection(out, { id: SectionId.data, content: detached.content });
  return {
    bytes: writeModule(out),
    memoryImport: withMemoryImport.memoryImport,
    minimumPages: withMemoryImport.minimumPages,
    globalNames: withGlobals.exportNames,
    segments: detached?.segments ?? [],
    freshMemoryIsZero: !out.some((s) => s.id === SectionId.start),
  };
}

/** Rewrite and compile a WASI module for snapshots (step 1). */
export async function rewriteForSnapshots(bytes: Uint8Array): Promise<SnapshotReadyModule> {
  const { bytes: rewritten, memoryImport, minimumPages, globalNames, segments } = prepareForSnapshots(bytes);
  return { module: await WebAssembly.compile(rewritten), memoryImport, minimumPages, globalNames, segments };
}

/** A new instance on its own memory, waiting for its execution's WASI host. */
export interface FreshInstance {
  readonly instance: WebAssembly.Instance;
  readonly memory: WebAssembly.Memory;
  /** Connect the execution's WASI host; before this, every WASI import throws. Once per instance. */
  attach(host: WasiHost): void;
  /**
   * Runs `work` (the host preparing this never-used instance ahead of its execution, e.g. Python's
   * reseeding) with `host` answering its WASI imports, then detaches `host` again. Before attach().
   */
  prepareWith(host: WasiHost, work: () => void): void;
}

export interface InstanceTarget {
  readonly module: WebAssembly.Module;
  readonly memoryImport: MemoryImportName;
  /** Imports other than WASI and the memory (e.g. Ruby's sealed JS bridge). */
  readonly otherImports?: WebAssembly.Imports;
}

/** Instantiate on `memory`, with WASI imports that forward to the host attached later. */
export function instantiateFresh(target: InstanceTarget, memory: WebAssembly.Memory): FreshInstance {
  let host: WasiHost | undefined;
  const wasi: Record<string, (...args: never[]) => unknown> = {};
  for (const name of PREVIEW1_FUNCTIONS) {
    wasi[name] = (...args: never[]) => {
      const fn = host?.imports[name];
      if (!fn) throw new Error(`WASI ${name} called before the execution's host was attached`);
      return fn(...args);
    };
  }
  const instance = new WebAssembly.Instance(target.module, {
    ...target.otherImports,
    [WASI_MODULE]: wasi,
    [target.memoryImport.module]: { [target.memoryImport.name]: memory },
  });
  return {
    instance,
    memory,
    attach(next: WasiHost): void {
      if (host) throw new Error("this instance already has its WASI host");
      next.bind(instance);
      host = next;
    },
    prepareWith(preparing: WasiHost, work: () => void): void {
      if (host) throw new Error("this instance already has its WASI host");
      preparing.bind(instance);
      host = preparing;
      try {
        work();
      } finally {
        host = undefined;
      }
    },
  };
}

export interface RestoreTarget extends InstanceTarget {
  readonly minimumPages: number;
  readonly snapshot: MemorySnapshot;
}

/** Pages an instance restored from this target needs before any guest code runs. */
export function restoredPages(target: Pick<RestoreTarget, "minimumPages" | "snapshot">): number {
  return Math.max(target.minimumPages, target.snapshot.pages);
}

/**
 * Step 3: a never-used instance in the captured state, on a new memory whose maximum is
 * `memoryLimitBytes`. Throws RangeError when the snapshot alone does not fit the limit (callers
 * check restoredPages() first and answer MEMORY_LIMIT).
 */
export function prepareRestored(target: RestoreTarget, memoryLimitBytes: number): FreshInstance {
  const maximum = Math.floor(memoryLimitBytes / WASM_PAGE_BYTES);
  const initial = restoredPages(target);
  if (initial > maximum) throw new RangeError(`the snapshot needs ${initial} pages, the limit allows ${maximum}`);
  const fresh = instantiateFresh(target, new WebAssembly.Memory({ initial, maximum }));
  restoreSnapshot(target.snapshot, fresh.memory, fresh.instance);
  return fresh;
}

/**
 * A never-used instance in the captured state on a memory a retired instance used (see
 * overwriteWithSnapshot: every byte rewritten). Only for a module with no active data segments
 * (rewriteForSnapshots makes them passive), a memory of exactly restoredPages() pages, and a retired
 * instance nothing can call into any more (no host object, callback or finalizer still holding it).
 */
export function restoreInto(target: RestoreTarget, memory: WebAssembly.Memory): FreshInstance {
  if (memory.buffer.byteLength !== restoredPages(target) * WASM_PAGE_BYTES) {
    throw new Error("restoreInto: the memory is not the size a restored instance starts at");
  }
  const fresh = instantiateFresh(target, memory);
  overwriteWithSnapshot(target.snapshot, memory, fresh.instance);
  return fresh;
}

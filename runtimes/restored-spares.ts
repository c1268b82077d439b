/**
 * The spare pool of the snapshot-based WASI runtimes (Python, Ruby): never-used instances restored
 * from the booted interpreter's snapshot, primed for the default memory limit when the snapshot fits.
 *
 * Memory recycling (the runner calls `recycle`, Python and Ruby do): a run that ends on its own
 * without growing its memory hands that memory back, and the next spare is a new Instance on it with every byte rewritten to the
 * snapshot's (snapshot-module.ts `restoreInto`), byte for byte what a new memory would hold. It
 * saves the page faults of a new memory (Python: ~5.5 of ~7 ms of worker CPU per execution under
 * load, its snapshot's 8 MiB being dense; Ruby's 24.6 MiB more). The instance itself is always new; only the memory's
 * pages are reused, and only by the next spare of the same memory limit (its maximum is fixed).
 */
import { DEFAULT_LIMITS, WASM_PAGE_BYTES } from "../src/sandbox/limits.js";
import { MemoryRecycler } from "../src/sandbox/wasm/memory-recycler.js";
import { DEFAULT_RUNNER_OPTIONS, type RunnerOptions } from "../src/sandbox/wasm/runtime.js";
import { SparePool } from "../src/sandbox/wasm/spare-pool.js";
import {
  type FreshInstance,
  prepareRestored,
  type RestoreTarget,
  restoredPages,
  restoreInto,
} from "../wasm/host/snapshot-module.js";
import { preparingHost } from "../wasm/host/wasi-host.js";

/** A never-used instance and what its runtime built for its execution ahead of time (`ahead`). */
export type RestoredSpare<A> = FreshInstance & { readonly ahead: A };

export interface RestoredSpares<A = undefined> {
  readonly pool: SparePool<RestoredSpare<A>>;
  /**
   * Hands back the memory of an instance that will never be called again, after a run that ended
   * normally. Ignored unless it is exactly the size a restored instance starts at (it did not grow).
   */
  recycle(memory: WebAssembly.Memory, memoryLimitBytes: number): void;
  /** Spares prepared on a recycled memory so far. */
  readonly recycled: number;
}

/**
 * `prime`, when given, finishes each spare once restored: the runtime's per-instance work that
 * needs no request (Python and Ruby reseed their PRNG), done ahead like the restore instead of in
 * the run, with only WASI's random_get and clocks reachable (wasi-host.ts `preparingHost`).
 * `ahead`, when given, builds the host-side objects of the spare's execution that need no request
 * (its unstarted WASI host, read-only preopens): new ones per spare, used by its execution alone.
 */
export async function restoredSpares<A = undefined>(
  target: RestoreTarget,
  options: RunnerOptions = DEFAULT_RUNNER_OPTIONS,
  prime?: (spare: FreshInstance) => void,
  ahead?: () => A,
): Promise<RestoredSpares<A>> {
  const startBytes = restoredPages(target) * WASM_PAGE_BYTES;
  const memories = new MemoryRecycler(startBytes);
  const pool = new SparePool<RestoredSpare<A>>({
    prepare: async (limitBytes) => {
      const reuse = memories.take(limitBytes);
      const spare = reuse ? restoreInto(target, reuse) : prepareRestored(target, limitBytes);
      if (prime) spare.prepareWith(preparingHost(spare.memory), () => prime(spare));
      return { ...spare, ahead: (ahead ? ahead() : undefined) as A };
    },
    capacity: options.spares,
    minAvailableMemoryBytes: options.minAvailableMemoryBytes,
    gauge: options.gauge,
  });
  if (startBytes <= DEFAULT_LIMITS.memoryLimitBytes) await pool.prime(DEFAULT_LIMITS.memoryLimitBytes);
  return {
    pool,
    recycle: (memory, memoryLimitBytes) => memories.give(memory, memoryLimitBytes),
    get recycled() {
      return memories.recycled;
    },
  };
}

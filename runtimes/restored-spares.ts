/**
 * The spare pool of the snapshot-based WASI runtimes (Python, Ruby): never-used instances restored
 * from the booted interpreter's snapshot, primed for the default memory limit when the snapshot fits.
 */
import { DEFAULT_LIMITS, WASM_PAGE_BYTES } from "../src/sandbox/limits.js";
import { SparePool } from "../src/sandbox/wasm/spare-pool.js";
import {
  type FreshInstance,
  prepareRestored,
  type RestoreTarget,
  restoredPages,
} from "../wasm/host/snapshot-module.js";

export async function restoredSpares(target: RestoreTarget, capacity = 1): Promise<SparePool<FreshInstance>> {
  const spares = new SparePool<FreshInstance>({
    prepare: async (limitBytes) => prepareRestored(target, limitBytes),
    capacity,
  });
  if (restoredPages(target) * WASM_PAGE_BYTES <= DEFAULT_LIMITS.memoryLimitBytes) {
    await spares.prime(DEFAULT_LIMITS.memoryLimitBytes);
  }
  return spares;
}

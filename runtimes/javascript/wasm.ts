/**
 * JavaScript on WebAssembly: QuickJS (quickjs-emscripten). The QuickJS wasm module is compiled once,
 * in the loader thread, and shared with the workers. Every execution runs in its own never-used
 * QuickJS wasm instance on a fresh linear memory whose maximum is the execution's memory limit,
 * cloned from a seed (instance-seed.ts). The host enforces that cap: QuickJS's own malloc
 * accounting is only a courtesy (measured: in this build reallocs are not counted, so arrays grew a
 * 32 MiB-limited runtime to 183 MiB).
 *
 * - `load()` (loader thread, once per server): compiles the module and builds the seed, evaluating
 *   the prelude (our own code only, before any guest code); posts the seed's image to the workers
 *   as plain data, its memory's bytes in one SharedArrayBuffer (seed-image.ts).
 * - `createRunner()` (each worker): takes that image back (validated) and clones its first spare
 *   from it; nothing is evaluated. If that first clone shows the image does not fit this worker's
 *   engine, the runner fails: the prelude is never evaluated here as a fallback.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { DEFAULT_LIMITS, WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import type { ExecutionRequest } from "../../src/sandbox/types.js";
import { shareLargeBytes } from "../../src/sandbox/wasm/boot-process.js";
import {
  DEFAULT_RUNNER_OPTIONS,
  type RunContext,
  type Runner,
  type RunnerOptions,
  type RunOutcome,
  type RuntimeAssets,
  type WasmRuntime,
} from "../../src/sandbox/wasm/runtime.js";
import { SparePool } from "../../src/sandbox/wasm/spare-pool.js";
import { Execution, memoryLimitOutcome, workspaceFor } from "./execution.js";
import { type PreparedInstance, QUICKJS_VERSION } from "./instance.js";
import { buildSeedImage, InstanceSeed, SeedTooLargeError } from "./instance-seed.js";
import { seedImageFromPlain, seedImageToPlain } from "./seed-image.js";

/** Within this much of the cap, an engine abort is the guest exhausting its memory. */
const OOM_SLACK_BYTES = 1024 * 1024;

const require = createRequire(import.meta.url);

export const javascriptRuntime: WasmRuntime = {
  language: "javascript",
  info: { name: "quickjs", version: QUICKJS_VERSION },
  async load() {
    const wasmPath = require.resolve("@jitl/quickjs-wasmfile-release-sync/wasm");
    const module = await WebAssembly.compile(await readFile(wasmPath));
    // The prelude is evaluated once per server, here; every worker clones this image.
    const seed = shareLargeBytes(seedImageToPlain(await buildSeedImage(module)));
    return { module, seed };
  },
  async createRunner(assets: RuntimeAssets, options: RunnerOptions = DEFAULT_RUNNER_OPTIONS) {
    const module = assets.module;
    if (!(module instanceof WebAssembly.Module)) throw new Error("javascript runtime: missing compiled module");
    const seed = await InstanceSeed.fromImage(module, seedImageFromPlain(assets.seed));
    const pool = new SparePool<PreparedInstance>({
      prepare: (limit) => seed.clone(limit),
      capacity: options.spares,
      minAvailableMemoryBytes: options.minAvailableMemoryBytes,
    });
    try {
      await pool.prime(DEFAULT_LIMITS.memoryLimitBytes);
    } catch (error) {
      pool.close();
      const reason = error instanceof Error ? error.message : String(error);
      // Fail closed: never fall back to evaluating the prelude in this worker.
      throw new Error(`javascript runtime: cannot clone the seed image from load() in this worker (${reason})`);
    }
    return new QuickJSRunner(pool, seed);
  },
};

class QuickJSRunner implements Runner {
  constructor(
    private readonly pool: SparePool<PreparedInstance>,
    private readonly seed: InstanceSeed,
  ) {}

  async run(request: ExecutionRequest, context: RunContext): Promise<RunOutcome> {
    const limit = context.limits.memoryLimitBytes;
    let instance: PreparedInstance;
    try {
      instance = await this.pool.take(limit);
    } catch (error) {
      if (error instanceof SeedTooLargeError) return memoryLimitOutcome(context, workspaceFor(request, context));
      throw error;
    }
    this.pool.refill(limit);
    const execution = new Execution(instance, request, context);
    try {
      const outcome = execution.run();
      // The run returned: nothing calls this instance again, so its memory may serve the next clone.
      this.seed.recycle(instance.memory, limit);
      return outcome;
    } catch (error) {
      // An emscripten abort (e.g. malloc failing inside the engine) leaves the instance unusable; at
      // the memory cap that is the guest's doing, anything else is a host fault.
      if (instance.memory.buffer.byteLength >= instance.maximumPages * WASM_PAGE_BYTES - OOM_SLACK_BYTES) {
        return execution.memoryLimit();
      }
      throw error;
    }
  }
}

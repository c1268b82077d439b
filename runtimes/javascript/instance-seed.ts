/**
 * Never-used JavaScript instances made by copying memory instead of evaluating the prelude.
 *
 * Once per server, `buildSeedImage` (called by `load()` in the loader thread) builds one instance
 * from nothing (instance.ts `prepareInstance`: engine, host bridge, prelude; our own code only,
 * before any guest code) and captures its linear memory and the addresses the host refers to (the
 * image, seed-image.ts). Each worker's runner takes that image (`InstanceSeed.fromImage`; nothing
 * evaluated: measured createRunner 35-48 ms of CPU per worker -> ~8 ms, for ~50 ms once in the
 * loader; at a cold start the per-worker build was ~300 ms), and `clone` then makes each instance
 * an execution runs in:
 * 1. a new QuickJS wasm instance on a new memory whose maximum is the execution's memory limit,
 *    its runtime made by the same calls as the seed's (instance.ts `newEngine`); they are
 *    deterministic, so it lands at the seed's address (checked; a mismatch fails, as bash's clone
 *    does). The context is not created (JS_NewContext was ~0.45 ms of each clone): the image brings
 *    the seed's, and the host wraps its pointer;
 * 2. the seed's memory copied in: only its non-zero 4 KiB blocks (and those the clone's runtime
 *    already wrote), since a new memory is zero-filled (memory-image.ts; measured 0.34 of 16 MiB);
 * 3. the JS-side objects rebuilt without touching the engine: the bridge's host functions
 *    registered under the ids the seed's `__host` functions carry (host-bridge.ts
 *    `rebindHostBridge`), and handles for the values the host keeps (`start`, the prelude's hooks)
 *    made from the seed's pointers.
 *
 * What makes the copy sufficient: the QuickJS build exports no mutable globals and imports its
 * memory, so all C state lives in linear memory; the shadow-stack pointer is back at its base
 * whenever control is in the host between calls (see runtimes/bash/memory-snapshot.ts).
 *
 * Freshness: everything per-execution is read by the prelude's `start()` (argv, env, a new
 * Math.random seed from the host); `crypto` asks the host for bytes on every call. The engine's own
 * PRNG state, seeded at context creation and shared by every clone, is unreachable: the prelude
 * replaces Math.random, its only user, before any guest code.
 */
import type { JSValuePointer, QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { MemoryRecycler } from "../../src/sandbox/wasm/memory-recycler.js";
import { zeroDirtyMemory } from "../../wasm/host/zero-blocks.js";
import { type HostBridge, rebindHostBridge } from "./host-bridge.js";
import { evaluatePrelude, newEngine, type PreparedInstance, pagesFor, QUICKJS_VERSION } from "./instance.js";
import { MemoryImage, nonZeroBlocks } from "./memory-image.js";
import { QuickJSLoader } from "./quickjs-loader.js";
import type { SeedImage } from "./seed-image.js";

/** The seed's memory maximum: room for the prelude, which needs far less. */
const SEED_MEMORY_BYTES = 64 * 1024 * 1024;

/** The memory limit is too small to hold the seed: the execution fails with MEMORY_LIMIT. */
export class SeedTooLargeError extends Error {
  constructor(
    readonly memoryLimitBytes: number,
    readonly seedBytes: number,
  ) {
    super(`javascript runtime: a ${memoryLimitBytes}-byte memory limit cannot hold the ${seedBytes}-byte seed`);
    this.name = "SeedTooLargeError";
  }
}

export class InstanceSeed {
  /** A retired instance's memory, handed back for the next clone of the same limit (see recycle). */
  private readonly memories: MemoryRecycler;

  private constructor(
    private readonly loader: QuickJSLoader,
    readonly image: SeedImage,
  ) {
    this.memories = new MemoryRecycler(image.memory.memoryBytes);
  }

  /**
   * Hands back the memory of an instance nothing will call again (its run returned; the host keeps
   * no callback into it). The next clone for the same limit zeroes its dirty pages (a scan first, so
   * untouched pages stay unallocated; zero-blocks.ts) and instantiates on it, instead of allocating a new 16 MiB
   * memory whose retirement the garbage collector pays for (~2.7 ms per clone measured). Ignored
   * unless it is exactly the seed's size (a memory that grew shows a guest more than a new one).
   */
  recycle(memory: WebAssembly.Memory, memoryLimitBytes: number): void {
    this.memories.give(memory, memoryLimitBytes);
  }

  /** Clones made on a recycled memory so far. */
  get recycled(): number {
    return this.memories.recycled;
  }

  /**
   * Builds the seed here and keeps it (tests; the runner takes an image `load()` built instead).
   * `observe` sees the seed's memory once it is captured (tests compare clones with it).
   */
  static async create(
    wasmModule: WebAssembly.Module,
    observe?: (seedMemory: WebAssembly.Memory) => void,
  ): Promise<InstanceSeed> {
    const loader = await QuickJSLoader.create(wasmModule);
    return new InstanceSeed(loader, await captureSeed(loader, observe));
  }

  /**
   * A seed from an image built elsewhere (buildSeedImage, in another thread): nothing is evaluated
   * here. Whether the image fits this thread's engine shows at the first clone, which fails if not.
   */
  static async fromImage(wasmModule: WebAssembly.Module, image: SeedImage): Promise<InstanceSeed> {
    return new InstanceSeed(await QuickJSLoader.create(wasmModule), image);
  }

  /** A never-used instance in the seed's state, its memory capped at `memoryLimitBytes`. */
  async clone(memoryLimitBytes: number): Promise<PreparedInstance> {
    const reuse = this.memories.take(memoryLimitBytes);
    if (reuse) zeroDirtyMemory(reuse, 0, reuse.buffer.byteLength);
    return cloneImage(this.loader, this.image, memoryLimitBytes, reuse);
  }
}

/** Builds a seed instance from nothing and captures its image (once per server, in `load()`). */
export async function buildSeedImage(wasmModule: WebAssembly.Module): Promise<SeedImage> {
  return captureSeed(await QuickJSLoader.create(wasmModule));
}

async function captureSeed(
  loader: QuickJSLoader,
  observe?: (seedMemory: WebAssembly.Memory) => void,
): Promise<SeedImage> {
  // What a clone's memory holds when the image is written into it: its runtime, no context yet.
  let runtimeBlocks: Uint8Array | undefined;
  const engine = await newEngine(loader, SEED_MEMORY_BYTES, {
    beforeContext: (memory) => {
      runtimeBlocks = nonZeroBlocks(memory);
    },
  });
  if (!runtimeBlocks) throw new Error("javascript runtime: the seed's runtime blocks were not recorded");
  const seed = evaluatePrelude(engine, SEED_MEMORY_BYTES);
  const hooks = seed.bridge.hooks;
  if (!hooks) throw new Error("javascript runtime: the prelude registered no hooks");
  const addresses = engineAddresses(seed.runtime, seed.vm);
  const memory = MemoryImage.capture(seed.memory, runtimeBlocks);
  observe?.(seed.memory);
  return {
    memory,
    rt: addresses.rt,
    ctx: addresses.ctx,
    hostFunctionIds: seed.hostFunctionIds,
    start: seed.start.value,
    timerNext: hooks.timerNext.value,
    timerFire: hooks.timerFire.value,
    exitCode: hooks.exitCode.value,
  };
}

/** Exported for tests (a tampered image must be refused); the runner goes through InstanceSeed. */
export async function cloneImage(
  loader: QuickJSLoader,
  image: SeedImage,
  memoryLimitBytes: number,
  zeroedMemory?: WebAssembly.Memory,
): Promise<PreparedInstance> {
  const pages = image.memory.memoryBytes / WASM_PAGE_BYTES;
  if (pagesFor(memoryLimitBytes) < pages) throw new SeedTooLargeError(memoryLimitBytes, image.memory.memoryBytes);
  // The context is not created: the image brings the seed's, at the same pointer.
  const engine = await newEngine(loader, memoryLimitBytes, {
    initialPages: pages,
    ...(zeroedMemory ? { zeroedMemory } : {}),
    seedContext: image.ctx,
  });
  const { runtime, vm, memory } = engine;
  if (engineAddresses(runtime, vm).rt !== image.rt) {
    throw new Error("javascript runtime: a clone's runtime does not match its seed");
  }
  image.memory.applyTo(memory);
  const bridge: HostBridge = { engineVersion: QUICKJS_VERSION, state: undefined };
  rebindHostBridge(runtime, vm, bridge, image.hostFunctionIds);
  const handle = heapHandles(vm, image.rt);
  bridge.hooks = {
    timerNext: handle(image.timerNext),
    timerFire: handle(image.timerFire),
    exitCode: handle(image.exitCode),
  };
  return { ...engine, memoryLimitBytes, bridge, start: handle(image.start) };
}

/** Handles for JSValues the seed allocated (and the clone therefore holds at the same pointers). */
function heapHandles(vm: QuickJSContext, rt: number): (pointer: number) => QuickJSHandle {
  const memory = vm.getMemory(rt as Parameters<QuickJSContext["getMemory"]>[0]);
  return (pointer) => memory.heapValueHandle(pointer as JSValuePointer);
}

/**
 * The engine's C addresses. quickjs-emscripten keeps them in protected fields; they are only read,
 * to check that a clone's engine sits where the seed's does.
 */
type EngineAddresses = { rt?: { value?: unknown }; ctx?: { value?: unknown } };

function engineAddresses(runtime: QuickJSRuntime, vm: QuickJSContext): { rt: number; ctx: number } {
  const rt = (runtime as unknown as EngineAddresses).rt?.value;
  const ctx = (vm as unknown as EngineAddresses).ctx?.value;
  if (typeof rt !== "number" || typeof ctx !== "number" || rt === 0 || ctx === 0) {
    throw new Error("javascript runtime: cannot read the engine's addresses");
  }
  return { rt, ctx };
}

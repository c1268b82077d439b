/**
 * A QuickJS wasm instance prepared for exactly one execution: its own linear memory capped at the
 * execution's memory limit, a runtime and context, the host bridge, and the prelude already
 * evaluated. An instance is never reused.
 *
 * `prepareInstance` builds one from nothing, mostly evaluating the prelude (~7 ms once the engine's
 * wasm code is optimized; 35-60 ms measured in a fresh thread, where it is not). `load()` does that
 * once per server, for the seed (instance-seed.ts), and every instance an execution runs in, in any
 * worker, is a clone of the seed's memory instead of evaluating the prelude again. Its SparePool
 * (src/sandbox/wasm/spare-pool.ts) prepares them between executions so a request only pays for
 * `start()`.
 */
import type { JSContextPointer, QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { type HostBridge, installHostBridge } from "./host-bridge.js";
import { PRELUDE_FILENAME, PRELUDE_SOURCE } from "./prelude.js";
import type { QuickJSLoader } from "./quickjs-loader.js";

export const QUICKJS_VERSION = "2025-09-13";
/** Measured: larger stacks let guest recursion throw a host RangeError and abort the runtime on dispose. */
export const MAX_STACK_BYTES = 256 * 1024;
/** The emscripten build's INITIAL_MEMORY (16 MiB): the module refuses a smaller memory. */
export const INITIAL_PAGES = 256;

export interface PreparedInstance {
  readonly memoryLimitBytes: number;
  readonly memory: WebAssembly.Memory;
  readonly maximumPages: number;
  readonly runtime: QuickJSRuntime;
  readonly vm: QuickJSContext;
  readonly bridge: HostBridge;
  /** The prelude's `start` function: reads argv, env and a fresh random seed from the bridge. */
  readonly start: QuickJSHandle;
}

/** A runtime and context on a new QuickJS wasm instance, before anything is evaluated in it. */
export interface Engine {
  readonly memory: WebAssembly.Memory;
  readonly maximumPages: number;
  readonly runtime: QuickJSRuntime;
  readonly vm: QuickJSContext;
}

/** Builds an instance from nothing: a new engine, the host bridge, the prelude evaluated. */
export async function prepareInstance(
  loader: QuickJSLoader,
  memoryLimitBytes: number,
): Promise<PreparedInstance & { readonly hostFunctionIds: readonly number[] }> {
  const engine = await newEngine(loader, memoryLimitBytes);
  return evaluatePrelude(engine, memoryLimitBytes);
}

/** The linear memory's size in pages for a memory limit (what its maximum is set to). */
export function pagesFor(memoryLimitBytes: number): number {
  return Math.max(1, Math.floor(memoryLimitBytes / WASM_PAGE_BYTES));
}

export interface EngineOptions {
  /** Pages the memory starts with: at least INITIAL_PAGES, at most the limit's pages. */
  readonly initialPages?: number;
  /** A memory of exactly `initialPages` whose every byte is zero, made for the same limit. */
  readonly zeroedMemory?: WebAssembly.Memory;
  /**
   * The pointer of a context the memory will hold once a seed's image is written into it: wrapped
   * as is instead of created (JS_NewContext builds every intrinsic, ~0.45 ms). Nothing may use the
   * engine before that image is in.
   */
  readonly seedContext?: number;
  /** Sees the memory once the runtime exists, before the context is created or wrapped. */
  readonly beforeContext?: (memory: WebAssembly.Memory) => void;
}

/**
 * The calls every instance makes before evaluating anything. They are deterministic, so a clone
 * (instance-seed.ts) that replays exactly these gets its runtime at the seed's address.
 */
export async function newEngine(
  loader: QuickJSLoader,
  memoryLimitBytes: number,
  options: EngineOptions = {},
): Promise<Engine> {
  const { initialPages = INITIAL_PAGES, zeroedMemory, seedContext } = options;
  const maximumPages = pagesFor(memoryLimitBytes);
  if (initialPages < INITIAL_PAGES || initialPages > maximumPages) {
    throw new RangeError(`javascript runtime: ${initialPages} initial pages do not fit ${maximumPages}`);
  }
  if (zeroedMemory && zeroedMemory.buffer.byteLength !== initialPages * WASM_PAGE_BYTES) {
    throw new RangeError("javascript runtime: a reused memory must be exactly the initial size");
  }
  // A reused memory is all zero again and was made with this limit's maximum: the same as a new one.
  const memory = zeroedMemory ?? new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages });
  const quickjs = await loader.instantiate(memory);
  const runtime = quickjs.newRuntime();
  runtime.setMaxStackSize(MAX_STACK_BYTES);
  options.beforeContext?.(memory);
  const vm = runtime.newContext(seedContext === undefined ? {} : { contextPointer: seedContext as JSContextPointer });
  return { memory, maximumPages, runtime, vm };
}

/** Installs the host bridge and evaluates the prelude (our own code only) in a new engine. */
export function evaluatePrelude(
  engine: Engine,
  memoryLimitBytes: number,
): PreparedInstance & { readonly hostFunctionIds: readonly number[] } {
  const { runtime, vm } = engine;
  const bridge: HostBridge = { engineVersion: QUICKJS_VERSION, state: undefined };
  const hostFunctionIds = installHostBridge(runtime, vm, bridge);
  const prelude = vm.evalCode(PRELUDE_SOURCE, PRELUDE_FILENAME);
  if (prelude.error) {
    prelude.error.dispose();
    throw new Error("javascript prelude failed to evaluate");
  }
  return { ...engine, memoryLimitBytes, bridge, start: prelude.value, hostFunctionIds };
}

/**
 * A QuickJS wasm instance prepared for exactly one execution: its own linear memory capped at the
 * execution's memory limit, a runtime and context, the host bridge, and the prelude already
 * evaluated. Preparing costs ~10 ms (mostly the prelude); the runner's SparePool
 * (src/sandbox/wasm/spare-pool.ts) does it between executions so a request only pays for `start()`.
 * An instance is never reused.
 */
import { RELEASE_SYNC as variant } from "quickjs-emscripten";
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
} from "quickjs-emscripten-core";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { type HostBridge, installHostBridge } from "./host-bridge.js";
import { PRELUDE_FILENAME, PRELUDE_SOURCE } from "./prelude.js";

export const QUICKJS_VERSION = "2025-09-13";
/** Measured: larger stacks let guest recursion throw a host RangeError and abort the runtime on dispose. */
export const MAX_STACK_BYTES = 256 * 1024;
/** The emscripten build's INITIAL_MEMORY (16 MiB). */
const INITIAL_PAGES = 256;

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

export async function prepareInstance(
  wasmModule: WebAssembly.Module,
  memoryLimitBytes: number,
): Promise<PreparedInstance> {
  const maximumPages = Math.max(1, Math.floor(memoryLimitBytes / WASM_PAGE_BYTES));
  const memory = new WebAssembly.Memory({ initial: Math.min(INITIAL_PAGES, maximumPages), maximum: maximumPages });
  const quickjs = await newQuickJSWASMModuleFromVariant(newVariant(variant, { wasmModule, wasmMemory: memory }));
  const runtime = quickjs.newRuntime();
  runtime.setMaxStackSize(MAX_STACK_BYTES);
  const vm = runtime.newContext();
  const bridge: HostBridge = { engineVersion: QUICKJS_VERSION, state: undefined };
  installHostBridge(vm, bridge);
  const prelude = vm.evalCode(PRELUDE_SOURCE, PRELUDE_FILENAME);
  if (prelude.error) {
    prelude.error.dispose();
    throw new Error("javascript prelude failed to evaluate");
  }
  return { memoryLimitBytes, memory, maximumPages, runtime, vm, bridge, start: prelude.value };
}

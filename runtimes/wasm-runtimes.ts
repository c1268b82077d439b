/**
 * The language runtimes WasmSandbox can load, imported lazily so a worker only loads what it runs
 * and a runtime whose artifacts are missing makes only its own language unavailable. Only the loader
 * and the workers import this file: the main thread asks for every language (LANGUAGES), and one
 * without a runtime here is reported unavailable by the loader.
 */
import type { Language } from "../src/sandbox/types.js";
import type { WasmRuntime } from "../src/sandbox/wasm/runtime.js";

export const WASM_RUNTIMES: Readonly<Partial<Record<Language, () => Promise<WasmRuntime>>>> = {
  javascript: async () => (await import("./javascript/wasm.js")).javascriptRuntime,
  ruby: async () => (await import("./ruby/wasm.js")).rubyWasmRuntime,
  python: async () => (await import("./python/wasm.js")).pythonWasmRuntime,
  bash: async () => (await import("./bash/wasm.js")).bashWasmRuntime,
};

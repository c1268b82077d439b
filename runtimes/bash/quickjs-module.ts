/**
 * One QuickJS WebAssembly instance per call, built from a WebAssembly.Module compiled once (in
 * `load()`), with a linear memory this file creates and therefore owns: memory-snapshot.ts copies
 * it, and MemoryCap bounds its growth.
 */

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import {
  type CustomizeVariantOptions,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSWASMModule,
} from "quickjs-emscripten-core";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { RELEASE_SYNC } from "../quickjs-variant.js";

type EmscriptenOptions = NonNullable<CustomizeVariantOptions["emscriptenModule"]>;

/** Emscripten's defaults for this build: 16 MiB initial, 2 GiB maximum. */
const INITIAL_PAGES = (16 * 1024 * 1024) / WASM_PAGE_BYTES;
const MAXIMUM_PAGES = 32768;

export interface QuickJSInstance {
  readonly module: QuickJSWASMModule;
  readonly memory: WebAssembly.Memory;
  readonly cap: MemoryCap;
  /** The last message emscripten printed to stderr (an abort's reason), for fault reports. */
  lastError(): string | undefined;
}

/**
 * A host-enforced ceiling on the linear memory. Emscripten's heap growth calls `memory.grow` inside
 * a try/catch and reports failure to malloc, so refusing to grow makes allocations fail inside
 * QuickJS (an out-of-memory exception) rather than in the host. QuickJS's own malloc limit is only a
 * courtesy: it does not count every allocation (reallocs), this ceiling does.
 */
export class MemoryCap {
  private limitBytes = Number.POSITIVE_INFINITY;
  private refused = false;

  constructor(memory: WebAssembly.Memory) {
    const grow = memory.grow.bind(memory);
    Object.defineProperty(memory, "grow", {
      value: (deltaPages: number): number => {
        if (memory.buffer.byteLength + deltaPages * WASM_PAGE_BYTES > this.limitBytes) {
          this.refused = true;
          throw new RangeError("linear memory cap reached");
        }
        return grow(deltaPages);
      },
    });
  }

  /** Cap growth at `bytes` of linear memory in total until `lift()`. */
  enforce(bytes: number): void {
    this.limitBytes = bytes;
    this.refused = false;
  }

  lift(): void {
    this.limitBytes = Number.POSITIVE_INFINITY;
  }

  /**
   * True when a growth was refused since the last `enforce`. Emscripten first asks for up to 20%
   * more than it needs and retries smaller, so a refusal can precede a smaller growth that worked:
   * this says the guest pressed against the cap, not that an allocation failed.
   */
  get reached(): boolean {
    return this.refused;
  }
}

/** Compile the QuickJS release-sync build (main thread, once). */
export async function compileQuickJS(): Promise<WebAssembly.Module> {
  const require = createRequire(import.meta.url);
  const path = require.resolve("@jitl/quickjs-wasmfile-release-sync/wasm");
  return WebAssembly.compile(await readFile(path));
}

/** `initialPages`: start the memory this large (a clone sized for its snapshot); default 16 MiB. */
export async function instantiateQuickJS(
  wasmModule: WebAssembly.Module,
  initialPages: number = INITIAL_PAGES,
): Promise<QuickJSInstance> {
  const memory = new WebAssembly.Memory({ initial: Math.max(INITIAL_PAGES, initialPages), maximum: MAXIMUM_PAGES });
  const cap = new MemoryCap(memory);
  let last: string | undefined;
  // Emscripten prints aborts to the console by default; library code keeps them as data instead.
  // (`print`/`printErr` are emscripten Module options the loader passes through verbatim.)
  const emscriptenModule: EmscriptenOptions & { print(text: string): void; printErr(text: string): void } = {
    print: () => undefined,
    printErr: (text: string) => {
      last = text;
    },
  };
  const variant = newVariant(RELEASE_SYNC, { wasmModule, wasmMemory: memory, emscriptenModule });
  const module = await newQuickJSWASMModuleFromVariant(variant);
  return { module, memory, cap, lastError: () => last };
}

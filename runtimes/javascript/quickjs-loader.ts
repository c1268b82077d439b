/**
 * New QuickJS wasm instances from one compiled module, each on a linear memory the caller made.
 *
 * `newQuickJSWASMModuleFromVariant` resolves the variant's emscripten loader and FFI class through
 * three dynamic `import()`s on every call (measured: ~1 ms per instance under tsx, whose loader hooks
 * answer each import from another thread). This resolves them once per runner and then does, per
 * instance, what that function does after its imports: run the emscripten loader, wrap it in the
 * FFI and a QuickJSWASMModule.
 */
import { RELEASE_SYNC } from "quickjs-emscripten";
import { newVariant, type QuickJSEmscriptenModule, type QuickJSFFI, QuickJSWASMModule } from "quickjs-emscripten-core";

type FFIClass = new (module: QuickJSEmscriptenModule) => QuickJSFFI;
/** What newVariant's `importModuleLoader` resolves to: a loader with our options bound. */
type ModuleLoader = () => Promise<QuickJSEmscriptenModule>;

export class QuickJSLoader {
  /** The memory the next `instantiate` hands to emscripten (read synchronously by its loader). */
  private pending: WebAssembly.Memory | undefined;

  private constructor(
    private readonly loadModule: ModuleLoader,
    private readonly FFI: FFIClass,
  ) {}

  static async create(wasmModule: WebAssembly.Module): Promise<QuickJSLoader> {
    let loader: QuickJSLoader | undefined;
    const variant = newVariant(RELEASE_SYNC, {
      // Instantiated synchronously: the library's own hook awaits WebAssembly.instantiate, which
      // costs a turn of the event loop per instance.
      emscriptenModule: {
        instantiateWasm(
          imports: WebAssembly.Imports,
          done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
        ) {
          const instance = new WebAssembly.Instance(wasmModule, imports);
          done(instance, wasmModule);
          return instance.exports;
        },
      },
      // Called synchronously when the loader starts (see `instantiate`).
      wasmMemory: () => {
        const memory = loader?.pending;
        if (!memory) return Promise.reject(new Error("javascript runtime: QuickJS instantiated without a memory"));
        return Promise.resolve(memory);
      },
    });
    const [loadModule, FFI] = await Promise.all([variant.importModuleLoader(), variant.importFFI()]);
    if (typeof loadModule !== "function") throw new Error("javascript runtime: unexpected QuickJS module loader");
    loader = new QuickJSLoader(loadModule as ModuleLoader, FFI);
    return loader;
  }

  /** A new QuickJS wasm instance whose linear memory is `memory`. */
  async instantiate(memory: WebAssembly.Memory): Promise<QuickJSWASMModule> {
    // The variant's loader reads its memory before its first await, so `pending` serves this call only.
    this.pending = memory;
    let loading: Promise<QuickJSEmscriptenModule>;
    try {
      loading = this.loadModule();
    } finally {
      this.pending = undefined;
    }
    const module = await loading;
    if (module.HEAPU8.buffer !== memory.buffer) throw new Error("javascript runtime: QuickJS got another memory");
    // As newQuickJSWASMModuleFromVariant does for a sync variant.
    (module as { type?: string }).type = "sync";
    return new QuickJSWASMModule(module, new this.FFI(module));
  }
}

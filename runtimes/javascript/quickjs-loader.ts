/**
 * New QuickJS wasm instances from one compiled module, each on a linear memory the caller made.
 *
 * `newQuickJSWASMModuleFromVariant` resolves the variant's emscripten loader and FFI class through
 * three dynamic `import()`s on every call (measured: ~1 ms per instance under tsx, whose loader hooks
 * answer each import from another thread). This resolves them once per runner and then does, per
 * instance, what that function does after its imports: run the emscripten loader, wrap it in the
 * FFI and a QuickJSWASMModule.
 *
 * The emscripten loader is called directly with our own options, not through `newVariant`'s
 * wrapper: with the options object that wrapper builds, wiring the instance's exports into the
 * emscripten module took ~0.25 ms per instance, against ~0.01 ms with a plain object (measured in
 * the built code, 2,000 clones in a row). The wrapper adds nothing a release build uses here: it
 * locates or fetches the wasm file (we instantiate the compiled module ourselves) and hands source
 * maps to debug builds.
 */
import { type QuickJSEmscriptenModule, type QuickJSFFI, QuickJSWASMModule } from "quickjs-emscripten-core";
import { RELEASE_SYNC } from "../quickjs-variant.js";

type FFIClass = new (module: QuickJSEmscriptenModule) => QuickJSFFI;

/** The options of the emscripten loader this file passes (emscripten reads them as it starts). */
interface LoaderOptions {
  readonly wasmMemory: WebAssembly.Memory;
  instantiateWasm(
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
  ): WebAssembly.Exports;
}

/** The variant's emscripten module factory. */
type ModuleFactory = (options: LoaderOptions) => Promise<QuickJSEmscriptenModule>;

export class QuickJSLoader {
  private constructor(
    private readonly wasmModule: WebAssembly.Module,
    private readonly factory: ModuleFactory,
    private readonly FFI: FFIClass,
  ) {}

  static async create(wasmModule: WebAssembly.Module): Promise<QuickJSLoader> {
    const [imported, FFI] = await Promise.all([RELEASE_SYNC.importModuleLoader(), RELEASE_SYNC.importFFI()]);
    if (typeof imported !== "function") throw new Error("javascript runtime: unexpected QuickJS module loader");
    return new QuickJSLoader(wasmModule, imported as unknown as ModuleFactory, FFI);
  }

  /** A new QuickJS wasm instance whose linear memory is `memory`. */
  async instantiate(memory: WebAssembly.Memory): Promise<QuickJSWASMModule> {
    const wasmModule = this.wasmModule;
    const module = await this.factory({
      wasmMemory: memory,
      // Instantiated synchronously: the library's own hook awaits WebAssembly.instantiate, which
      // costs a turn of the event loop per instance.
      instantiateWasm(imports, done) {
        const instance = new WebAssembly.Instance(wasmModule, imports);
        done(instance, wasmModule);
        return instance.exports;
      },
    });
    if (module.HEAPU8.buffer !== memory.buffer) throw new Error("javascript runtime: QuickJS got another memory");
    // As newQuickJSWASMModuleFromVariant does for a sync variant.
    (module as { type?: string }).type = "sync";
    return new QuickJSWASMModule(module, new this.FFI(module));
  }
}

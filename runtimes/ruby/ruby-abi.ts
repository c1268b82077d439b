/**
 * Driving ruby.wasm's `rb-abi-guest` exports ourselves, without @ruby/wasm-wasi's RubyVM.
 *
 * The stock glue wires the `rb-js-abi-host` imports to the host's JS realm (`global-this`,
 * `eval-js`, `reflect-apply`...), which hands guest code `process.env` and `child_process`. Here
 * every non-WASI import is sealed: the JS bridge and any import we do not know trap with
 * GuestLimitError("SANDBOX_VIOLATION"), so `require "js"` gives the guest no way out. The only
 * imports that do something are `canonical_abi.resource_{new,get}_rb-abi-value`, which map a guest
 * handle to itself (the host never holds Ruby values beyond one call).
 *
 * Calling convention (wit-bindgen "legacy" canonical ABI, wasm32): a string is (ptr, len) in guest
 * memory allocated with `cabi_realloc`; a list<string> is (ptr, len) of 8-byte (ptr, len) pairs;
 * tuple results come back as a pointer to a return area.
 */
import { GuestLimitError } from "../../wasm/host/guest-limit.js";

const WASI_MODULE = "wasi_snapshot_preview1";

export const RB_EXPORTS = {
  init: "ruby-init: func(args: list<string>) -> ()",
  evalProtect: "rb-eval-string-protect: func(str: string) -> tuple<handle<rb-abi-value>, s32>",
  rstringPtr: "rstring-ptr: func(value: handle<rb-abi-value>) -> string",
  rstringPtrPost: "cabi_post_rstring-ptr",
  dropValue: "canonical_abi_drop_rb-abi-value",
  realloc: "cabi_realloc",
  initialize: "_initialize",
} as const;

type ImportFunction = (...args: number[]) => number | undefined;

function violation(module: string, name: string): ImportFunction {
  return () => {
    throw new GuestLimitError(
      "SANDBOX_VIOLATION",
      `the guest called ${module}.${name.split(":")[0]}, which this sandbox does not provide (no JavaScript bridge)`,
    );
  };
}

/**
 * Import objects for every non-WASI, non-memory import of `module`. Built from the module's own
 * import list, so an import added by a future ruby.wasm is sealed too rather than forgotten.
 */
export function sealedRubyImports(
  module: WebAssembly.Module,
  memoryImport: { readonly module: string; readonly name: string },
): Record<string, Record<string, ImportFunction>> {
  const out: Record<string, Record<string, ImportFunction>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === WASI_MODULE) continue;
    if (imp.module === memoryImport.module && imp.name === memoryImport.name) continue;
    if (imp.kind !== "function") throw new Error(`unexpected ${imp.kind} import ${imp.module}.${imp.name}`);
    const table = out[imp.module] ?? {};
    out[imp.module] = table;
    if (imp.module === "canonical_abi" && imp.name === "resource_new_rb-abi-value") table[imp.name] = (rep = 0) => rep;
    else if (imp.module === "canonical_abi" && imp.name === "resource_get_rb-abi-value")
      table[imp.name] = (handle = 0) => handle;
    else table[imp.name] = violation(imp.module, imp.name);
  }
  return out;
}

type Exported = (...args: number[]) => number;

/** Typed access to one instance's guest exports. */
export class RubyGuest {
  private readonly memory: WebAssembly.Memory;

  constructor(private readonly instance: WebAssembly.Instance) {
    const memory = instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) throw new Error("ruby.wasm exports no memory");
    this.memory = memory;
    for (const name of Object.values(RB_EXPORTS)) this.fn(name);
  }

  private fn(name: string): Exported {
    const f = this.instance.exports[name];
    if (typeof f !== "function") throw new Error(`ruby.wasm lacks the export ${name}`);
    return f as Exported;
  }

  private view(): DataView {
    return new DataView(this.memory.buffer);
  }

  /** Copy bytes into a fresh guest allocation. */
  private put(bytes: Uint8Array, align = 1): number {
    const ptr = this.fn(RB_EXPORTS.realloc)(0, 0, align, Math.max(1, bytes.byteLength));
    new Uint8Array(this.memory.buffer, ptr, bytes.byteLength).set(bytes);
    return ptr;
  }

  /** WASI reactor initialisation (libc, wasi-vfs). Once per instance, before anything else. */
  initialize(): void {
    this.fn(RB_EXPORTS.initialize)();
  }

  /** ruby_sysinit + ruby_init + ruby_options(args). `args[0]` is the program name. */
  rubyInit(args: readonly string[]): void {
    const encoder = new TextEncoder();
    const list = this.fn(RB_EXPORTS.realloc)(0, 0, 4, args.length * 8);
    const pairs = args.map((a) => {
      const bytes = encoder.encode(`${a}\0`);
      return [this.put(bytes), bytes.byteLength] as const;
    });
    const view = this.view();
    pairs.forEach(([ptr, len], i) => {
      view.setInt32(list + i * 8, ptr, true);
      view.setInt32(list + i * 8 + 4, len, true);
    });
    this.fn(RB_EXPORTS.init)(list, args.length);
  }

  /** rb_eval_string_protect: `value` is the raw VALUE of the result, `state` 0 when nothing escaped. */
  evalProtect(code: string): { value: number; state: number } {
    const bytes = new TextEncoder().encode(code);
    const ptr = this.put(bytes);
    const ret = this.fn(RB_EXPORTS.evalProtect)(ptr, bytes.byteLength);
    const view = this.view();
    return { value: view.getInt32(ret, true), state: view.getInt32(ret + 4, true) };
  }

  /** The bytes of a String VALUE, decoded as UTF-8; releases the handle. */
  readString(value: number): string {
    const ret = this.fn(RB_EXPORTS.rstringPtr)(value);
    const view = this.view();
    const ptr = view.getInt32(ret, true);
    const len = view.getInt32(ret + 4, true);
    const text = new TextDecoder().decode(new Uint8Array(this.memory.buffer, ptr, len));
    this.fn(RB_EXPORTS.rstringPtrPost)(ret);
    this.release(value);
    return text;
  }

  /** Let Ruby forget a value it lent to the host. */
  release(value: number): void {
    this.fn(RB_EXPORTS.dropValue)(value);
  }
}

/** Decode a VALUE that is a Fixnum (tagged `2n + 1`); null for anything else. */
export function fixnumValue(value: number): number | null {
  return (value & 1) === 1 ? value >> 1 : null;
}

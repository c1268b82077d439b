/**
 * The reactor's exports (runtimes/python/reactor.c) seen from the host, and the run request it
 * reads: NUL-terminated fields `cwd, argc, argv..., envc, NAME=value...`, then optionally the
 * script's source: its length in bytes as one more field, the bytes, and a NUL.
 */

/** Bit set in pyreactor_run's result when the uncaught exception was a MemoryError. */
export const MEMORY_ERROR_FLAG = 0x100;

export interface RunRequestFields {
  readonly cwd: string;
  /** argv[0] is the script path. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /**
   * The script's bytes, also written to argv[0]: the reactor compiles them from memory instead of
   * opening that file. It still opens the file when they hold a NUL or may declare their encoding
   * (PEP 263), so python3's own errors for those stay the same. Without it, the reactor reads the file.
   */
  readonly source?: Uint8Array;
}

/**
 * C strings end at NUL: an argument or value holding one is cut there (what a C program would see),
 * and a variable whose name is empty or holds `=` or NUL cannot exist in an environment: it is left out.
 */
export function encodeRunRequest(fields: RunRequestFields): Uint8Array {
  const cString = (value: string): string => {
    const nul = value.indexOf("\0");
    return nul < 0 ? value : value.slice(0, nul);
  };
  const env = Object.entries(fields.env).filter(([name]) => name !== "" && !/[=\0]/.test(name));
  const parts = [
    cString(fields.cwd),
    String(fields.argv.length),
    ...fields.argv.map(cString),
    String(env.length),
    ...env.map(([name, value]) => `${name}=${cString(value)}`),
  ];
  const source = fields.source;
  if (source === undefined) return new TextEncoder().encode(`${parts.join("\0")}\0`);
  const head = new TextEncoder().encode(`${[...parts, String(source.byteLength)].join("\0")}\0`);
  const request = new Uint8Array(head.byteLength + source.byteLength + 1);
  request.set(head);
  request.set(source, head.byteLength);
  return request;
}

/** Typed access to the reactor's exports; throws if the module is not the reactor we built. */
export class PythonGuest {
  private readonly initializeFn: () => void;
  private readonly initFn: () => number;
  private readonly importFn: (ptr: number, len: number) => number;
  private readonly primeFn: () => number;
  private readonly runFn: (ptr: number, len: number) => number;
  private readonly allocFn: (size: number) => number;

  constructor(
    instance: WebAssembly.Instance,
    private readonly memory: WebAssembly.Memory,
  ) {
    const e = instance.exports;
    this.initializeFn = fn(e._initialize, "_initialize") as () => void;
    this.initFn = fn(e.pyreactor_init, "pyreactor_init") as () => number;
    this.importFn = fn(e.pyreactor_import, "pyreactor_import") as (ptr: number, len: number) => number;
    this.primeFn = fn(e.pyreactor_prime, "pyreactor_prime") as () => number;
    this.runFn = fn(e.pyreactor_run, "pyreactor_run") as (ptr: number, len: number) => number;
    this.allocFn = fn(e.pyreactor_alloc, "pyreactor_alloc") as (size: number) => number;
  }

  /** C constructors and the WASI preopen table. */
  initialize(): void {
    this.initializeFn();
  }

  /** Start the interpreter. */
  init(): void {
    if (this.initFn() !== 0) throw new Error("pyreactor_init failed");
  }

  /** Import modules so that a snapshot taken afterwards holds them. */
  preload(modules: readonly string[]): void {
    if (modules.length === 0) return;
    const { ptr, len } = this.place(new TextEncoder().encode(modules.join(",")));
    if (this.importFn(ptr, len) !== 0) throw new Error(`pyreactor_import failed for ${modules.join(",")}`);
  }

  /**
   * Reseed `random` ahead of the run, on an instance restored from the snapshot (never on the one a
   * snapshot is taken of: every instance would share its stream). Needs only random_get.
   */
  prime(): void {
    if (this.primeFn() !== 0) throw new Error("pyreactor_prime failed");
  }

  /** Run the one execution of this instance; returns pyreactor_run's raw result. */
  run(request: Uint8Array): number {
    const { ptr, len } = this.place(request);
    return this.runFn(ptr, len);
  }

  private place(bytes: Uint8Array): { ptr: number; len: number } {
    const ptr = this.allocFn(bytes.byteLength) >>> 0;
    if (ptr === 0) throw new RangeError("pyreactor_alloc: out of memory");
    new Uint8Array(this.memory.buffer, ptr, bytes.byteLength).set(bytes);
    return { ptr, len: bytes.byteLength };
  }
}

function fn(value: unknown, name: string): (...args: number[]) => unknown {
  if (typeof value !== "function") throw new Error(`python.wasm does not export ${name}`);
  return value as (...args: number[]) => unknown;
}

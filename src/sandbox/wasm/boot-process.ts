/**
 * Runs a runtime's one-time boot (interpreter init, then snapshot capture) in a short-lived child
 * Node process started with `--liftoff-only`, and returns what the boot function returned (it must
 * be structured-cloneable: plain data, typed arrays; never a WebAssembly.Module).
 *
 * Why a process: V8 tiers hot WebAssembly functions up to TurboFan in background threads. During a
 * boot that runs each interpreter function only a few times, that compilation is wasted and takes
 * the second core from everything else starting up (measured on 2 cores: Ruby's boot 4.1 s of CPU
 * and 2.5-5 s of wall time with tiering, 1.4 s of CPU and ~1.3 s of wall time with Liftoff only).
 * V8 flags are per process (a worker thread cannot have its own), so the boot gets its own process;
 * the modules that executions run are compiled by the service itself with the default tiering.
 *
 * The child runs only our code: `entry` names one of our own modules and its exported function. It
 * gets an empty environment, the parent's argv (see below) and no stdin; stderr is kept (the tail)
 * for the failure reason.
 *
 * With a snapshot cache configured in this thread (boot-cache.ts, SANDBOX_SNAPSHOT_CACHE_DIR), the
 * result is looked up on disk first and stored after a boot; without one (the default) every call
 * boots.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { activeBootCache, type BootCache } from "./boot-cache.js";

/** A boot that takes longer than this fails (the language is then unavailable). */
export const DEFAULT_BOOT_TIMEOUT_MS = 120_000;
const STDERR_TAIL_BYTES = 2_000;
/**
 * The boot process's V8 flags. They change how the child compiles and collects, nothing a snapshot
 * holds:
 * - --liftoff-only: see the top of this file.
 * - --no-concurrent-marking: every memory.grow gives the memory a new ArrayBuffer, which V8 counts
 *   as the whole memory (40-70 MB) of new external memory, and each time it starts a major GC of the
 *   small JavaScript heap; Ruby's ruby_init grows memory dozens of times. With concurrent marking
 *   those were 42-49 GCs and ruby_init took ~1150 ms of CPU; without, 15-17 GCs and ~650 ms
 *   (measured, medians of 3 runs each).
 * - --wasm-lazy-validation: a function is validated when first called rather than all at compile
 *   (Ruby: compile ~160 -> ~40 ms; a boot calls a fraction of them). The service compiles the same
 *   bytes with full validation before any execution runs them.
 */
const V8_FLAGS = ["--liftoff-only", "--no-concurrent-marking", "--wasm-lazy-validation"] as const;

export interface BootEntry {
  /** file: URL of the module (one of ours) exporting the boot function. */
  readonly module: string;
  /** Name of the exported async function. */
  readonly export: string;
  /** Its arguments (structured-cloneable); none by default. */
  readonly args?: readonly unknown[];
}

/** What the child receives: the entry, and the parent's argv to mirror (see runBootProcess). */
export interface BootRequest extends BootEntry {
  readonly argv: readonly string[];
}

export type BootReply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface BootProcessOptions {
  readonly timeoutMs?: number;
  /** The snapshot cache to use; default: the one configured in this thread (none unless configured). */
  readonly cache?: BootCache;
}

/** Node arguments that start boot-entry in a child process (through tsx when running from TypeScript). */
export function bootProcessArgs(): string[] {
  if (import.meta.url.endsWith(".js")) return [...V8_FLAGS, fileURLToPath(new URL("./boot-entry.js", import.meta.url))];
  return [
    ...V8_FLAGS,
    "--import",
    import.meta.resolve("tsx/esm"),
    fileURLToPath(new URL("./boot-entry.ts", import.meta.url)),
  ];
}

/** Boots started ahead by prestartBootProcess, by entry, each waiting to be taken once. */
const prestarted = new Map<string, Promise<unknown>>();

function entryKey(entry: BootEntry): string {
  return JSON.stringify([entry.module, entry.export, entry.args ?? []]);
}

/**
 * Starts `entry`'s boot now (through the snapshot cache like any boot); the next runBootProcess of
 * the same entry in this thread takes it instead of starting another. The loader calls it before it
 * imports the runtime that will ask for the boot.
 */
export function prestartBootProcess(entry: BootEntry, options: BootProcessOptions = {}): void {
  const key = entryKey(entry);
  if (prestarted.has(key)) return;
  const boot = runBootProcess(entry, options);
  boot.catch(() => undefined);
  prestarted.set(key, boot);
}

export function runBootProcess<T>(entry: BootEntry, options: BootProcessOptions = {}): Promise<T> {
  const key = entryKey(entry);
  const early = prestarted.get(key);
  if (early) {
    prestarted.delete(key);
    return early as Promise<T>;
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
  // The child takes the parent's process.argv before it loads anything: emscripten modules
  // (QuickJS) allocate the program name from it at start, so a snapshot is only laid out like an
  // instance in this process's workers when both saw the same argv (measured: a 24-byte shift).
  const request: BootRequest = { ...entry, argv: [...process.argv] };
  const childArgs = bootProcessArgs();
  const boot = () => spawnBoot(request, childArgs, timeoutMs);
  const cache = options.cache ? Promise.resolve(options.cache) : activeBootCache();
  // No cache configured (the default): the child starts right away, as it always did.
  const value = cache
    ? cache.then((opened) => (opened ? opened.through({ ...request, childArgs }, boot) : boot()))
    : boot();
  return value.then((reply) => shareLargeBytes(reply) as T);
}

/** One boot in a new child process; resolves with its reply's value as it arrived over IPC. */
function spawnBoot(request: BootRequest, childArgs: readonly string[], timeoutMs: number): Promise<unknown> {
  const child = spawn(process.execPath, childArgs, {
    env: {},
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "advanced",
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_BYTES);
  });
  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    const fail = (reason: string) => settle(() => reject(new Error(reason)));
    const timer = setTimeout(() => fail(`the boot process did not finish within ${timeoutMs} ms`), timeoutMs);
    child.once("error", (error) => fail(`the boot process could not start: ${error.message}`));
    child.once("exit", (code, signal) =>
      fail(`the boot process exited (${signal ?? `code ${code}`}) without a result${tail(stderr)}`),
    );
    child.once("message", (reply: BootReply<unknown>) => {
      if (reply.ok) settle(() => resolve(reply.value));
      else fail(reply.reason);
    });
    child.send(request);
  });
}

/** Byte arrays at least this large are moved into shared memory by shareLargeBytes. */
export const SHARE_MIN_BYTES = 64 * 1024;

type TypedArray = Exclude<ArrayBufferView, DataView>;

/**
 * The reply's large typed arrays, copied into SharedArrayBuffers, and its small ones that are views
 * into a larger buffer, copied into their own. What arrives over IPC (or from a cache file) are views
 * into one message buffer (a snapshot of 26 MB sat in a 56 MB buffer with the module bytes); posted
 * to each worker, such a view clones that whole buffer per worker (measured: Ruby 60 -> 157 MB of RSS
 * per worker), however small the view. A SharedArrayBuffer is posted by reference: every worker reads
 * the one copy, as snapshots captured in this process always were (memory-snapshot.ts). Views that
 * are already shared (a cache file read into shared memory, boot-cache.ts) are passed as they are.
 * Readers never write to them.
 */
export function shareLargeBytes(value: unknown, depth = 0): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const view = value as TypedArray;
    if (view.buffer instanceof SharedArrayBuffer) return view;
    if (view.byteLength >= SHARE_MIN_BYTES) return copyInto(view, new SharedArrayBuffer(view.byteLength));
    return view.byteLength === view.buffer.byteLength ? view : copyInto(view, new ArrayBuffer(view.byteLength));
  }
  if (depth > 8 || value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map((item) => shareLargeBytes(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = shareLargeBytes(item, depth + 1);
  return out;
}

/** A view of the same type over `buffer`, holding a copy of `view`'s bytes. */
function copyInto(view: TypedArray, buffer: ArrayBuffer | SharedArrayBuffer): TypedArray {
  new Uint8Array(buffer).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  const Ctor = view.constructor as new (buffer: ArrayBuffer | SharedArrayBuffer) => TypedArray;
  return new Ctor(buffer);
}

function tail(stderr: string): string {
  const text = stderr.trim();
  return text ? `: ${text.split("\n").slice(-5).join(" | ")}` : "";
}

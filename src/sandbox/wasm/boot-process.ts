/**
 * Runs a runtime's one-time boot (interpreter init, then snapshot capture) in a short-lived child
 * Node process started with `--liftoff-only`, and returns what the boot function returned (it must
 * be structured-cloneable: plain data, typed arrays; never a WebAssembly.Module). Its large byte
 * arrays come through a file rather than the IPC channel (boot-spill.ts). A child whose boot
 * succeeded is kept for IDLE_BOOT_CHILD_MS and runs the next boot of the same thread, if one comes.
 * limitBootProcesses bounds how many boots run at once in a thread.
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
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConcurrencyLimiter } from "../../throttle/concurrency-limiter.js";
import { activeBootCache, type BootCache } from "./boot-cache.js";
import { mapBootValue, readSpilledBytes, SPILL_MIN_BYTES, WALK_INTO } from "./boot-spill.js";

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
  /** Where the child writes the result's large byte arrays (boot-spill.ts); set per boot by spawnBoot. */
  readonly spillFile?: string;
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
  const boot = (shared: boolean) => spawnBoot(request, childArgs, timeoutMs, shared);
  const cache = options.cache ? Promise.resolve(options.cache) : activeBootCache();
  // No cache configured (the default): the child starts right away, as it always did. A value that
  // goes into the cache is read into ordinary buffers: v8.serialize cannot write shared memory.
  const value = cache
    ? cache.then((opened) => (opened ? opened.through({ ...request, childArgs }, () => boot(false)) : boot(true)))
    : boot(true);
  return value.then((reply) => shareLargeBytes(reply) as T);
}

/**
 * How long a child that finished a boot is kept for the next boot of this thread. Boots run two at a
 * time at start (limitBootProcesses), and the next one (Bash after Python or Ruby) takes the child
 * that just replied: it then skips a Node start and the imports both boots share (Bash's boot
 * after Python's, 10 interleaved runs on 2 cores: ~665 ms in the kept child, ~760 ms in a new one,
 * in the runs where the machine was at its faster speed). An idle child uses no CPU; it exits when
 * this thread ends (its IPC channel closes) or when this delay passed.
 */
export const IDLE_BOOT_CHILD_MS = 3_000;

/** A boot child process, with the tail of its stderr. */
interface BootChild {
  readonly process: ChildProcess;
  /** The Node arguments it was started with (a kept child serves only boots started the same way). */
  readonly args: string;
  stderr: string;
}

/** The child that finished the last boot of this thread, waiting for the next one. */
let idleChild: { readonly child: BootChild; readonly timer: NodeJS.Timeout } | undefined;

function startChild(childArgs: readonly string[]): BootChild {
  const process_ = spawn(process.execPath, childArgs, {
    env: {},
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "advanced",
  });
  const child: BootChild = { process: process_, args: childArgs.join("\0"), stderr: "" };
  // A kept child has no boot listening: an 'error' then (a kill or send that failed) must not throw
  // here; the boot that takes the child sees a child that no longer runs and starts another.
  process_.on("error", () => undefined);
  process_.stderr?.setEncoding("utf8");
  process_.stderr?.on("data", (chunk: string) => {
    child.stderr = (child.stderr + chunk).slice(-STDERR_TAIL_BYTES);
  });
  return child;
}

/** The kept child if it was started with `childArgs` and still runs; otherwise none (it is stopped). */
function takeIdleChild(childArgs: readonly string[]): BootChild | undefined {
  const idle = idleChild;
  if (!idle) return undefined;
  idleChild = undefined;
  clearTimeout(idle.timer);
  const { child } = idle;
  if (child.args !== childArgs.join("\0") || !running(child.process)) {
    child.process.kill("SIGKILL");
    return undefined;
  }
  setReferenced(child.process, true);
  child.stderr = "";
  return child;
}

/** Keeps `child` for the next boot (replacing a child kept before), without holding this thread open. */
function keepIdle(child: BootChild): void {
  if (idleChild) stopIdleBootChild();
  setReferenced(child.process, false);
  const timer = setTimeout(stopIdleBootChild, IDLE_BOOT_CHILD_MS);
  timer.unref();
  idleChild = { child, timer };
}

/** Stops the kept boot child now, if there is one. */
export function stopIdleBootChild(): void {
  const idle = idleChild;
  if (!idle) return;
  idleChild = undefined;
  clearTimeout(idle.timer);
  idle.child.process.kill("SIGKILL");
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.connected;
}

/** Whether the child's handles (process, IPC channel, stderr pipe) keep this thread's event loop alive. */
function setReferenced(child: ChildProcess, referenced: boolean): void {
  const handles: Array<{ ref?: () => void; unref?: () => void } | null | undefined> = [
    child,
    child.channel,
    child.stderr as unknown as { ref?: () => void; unref?: () => void } | null,
  ];
  for (const handle of handles) (referenced ? handle?.ref : handle?.unref)?.call(handle);
}

/** Boots running in child processes in this thread, and those waiting for a place (limitBootProcesses). */
let bootPlaces = new ConcurrencyLimiter({ maxActive: Number.POSITIVE_INFINITY, maxQueued: Number.POSITIVE_INFINITY });
const BOOTS = "boots";

/**
 * At most `limit` boots run in child processes at once in this thread; the others wait, in the order
 * they were asked for. The loader sets it (one per core) before its first boot: every language's load
 * then starts at once (imports, reading and compiling its files) and only the boots queue, so the
 * next one starts the moment a child replied, in the child that just finished, instead of after the
 * whole load that booted there came back (measured at start: Bash's boot 90 ms sooner). Boots
 * already running or waiting keep the limit they started under.
 */
export function limitBootProcesses(limit: number): void {
  bootPlaces = new ConcurrencyLimiter({
    maxActive: Math.max(1, Math.floor(limit)),
    maxQueued: Number.POSITIVE_INFINITY,
  });
}

/**
 * One boot in a child process (the kept one if there is one, else a new one), once a place is free
 * (limitBootProcesses); resolves with its reply's value, the large byte arrays read from the file the
 * child wrote them to (boot-spill.ts; `shared`: into SharedArrayBuffers). A child whose boot
 * succeeded is kept for the next boot; one that failed, timed out or exited is killed.
 */
async function spawnBoot(
  request: BootRequest,
  childArgs: readonly string[],
  timeoutMs: number,
  shared: boolean,
): Promise<unknown> {
  const freeBootPlace = await bootPlaces.acquire(BOOTS);
  let spillDir: string | undefined;
  let child: BootChild;
  try {
    spillDir = mkdtempSync(join(tmpdir(), `${SPILL_DIR_PREFIX}${process.pid}-`));
    child = takeIdleChild(childArgs) ?? startChild(childArgs);
  } catch (error) {
    if (spillDir !== undefined) removeSpillDir(spillDir);
    freeBootPlace();
    throw error;
  }
  const dir = spillDir;
  const spillFile = join(dir, "reply.bin");
  const { process: proc } = child;
  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void, keep: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.off("error", onError);
      proc.off("exit", onExit);
      proc.off("message", onMessage);
      fn();
      if (keep && running(proc)) keepIdle(child);
      else if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      removeSpillDir(dir);
      freeBootPlace();
    };
    const fail = (reason: string) => settle(() => reject(new Error(reason)), false);
    const timer = setTimeout(() => fail(`the boot process did not finish within ${timeoutMs} ms`), timeoutMs);
    const onError = (error: Error) => fail(`the boot process could not start: ${error.message}`);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`the boot process exited (${signal ?? `code ${code}`}) without a result${tail(child.stderr)}`);
    const onMessage = (reply: BootReply<unknown>) => {
      if (!reply.ok) return fail(reply.reason);
      let value: unknown;
      try {
        value = readSpilledBytes(reply.value, spillFile, shared);
      } catch (error) {
        return fail(`could not read the boot's result: ${error instanceof Error ? error.message : String(error)}`);
      }
      settle(() => resolve(value), true);
    };
    proc.once("error", onError);
    proc.once("exit", onExit);
    proc.once("message", onMessage);
    proc.send({ ...request, spillFile } satisfies BootRequest);
  });
}

/** Spill directories are `<tmpdir>/<this><server pid>-<random>`: the pid tells whose they are. */
const SPILL_DIR_PREFIX = "inline-sandbox-boot-";
const SPILL_DIR_NAME = new RegExp(`^${SPILL_DIR_PREFIX}(\\d+)-[^/]+$`);
/** A spill directory of a dead server older than this is left over: a boot's lives seconds. */
export const STALE_SPILL_MS = 10 * 60_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes spill directories a server left behind when it and its boot child died together (both
 * killed at once: neither removed the reply it had not read yet), from `dir` (default the temp
 * directory): ours, named for a process that no longer runs, and older than STALE_SPILL_MS (another
 * PID namespace sharing the directory may reuse numbers). The loader runs it in the background at
 * its start. Resolves with how many it removed.
 */
export async function sweepStaleSpillDirs(dir: string = tmpdir(), now: number = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const match = SPILL_DIR_NAME.exec(name);
    const pid = Number(match?.[1]);
    if (!match || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    const path = join(dir, name);
    try {
      const info = await lstat(path);
      if (!info.isDirectory() || info.uid !== process.getuid?.() || now - info.mtimeMs < STALE_SPILL_MS) continue;
      await rm(path, { recursive: true, force: true });
      removed++;
    } catch {
      // Gone meanwhile, or not ours to remove: left as it is.
    }
  }
  return removed;
}

/** Removes a boot's spill directory; a failure to (which leaves a file in the temp dir) must not end the boot. */
function removeSpillDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Nothing to do: the directory is private to this process and holds no secret.
  }
}

/** Byte arrays at least this large are moved into shared memory by shareLargeBytes (the spill bound). */
export const SHARE_MIN_BYTES = SPILL_MIN_BYTES;

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
export function shareLargeBytes(value: unknown): unknown {
  return mapBootValue(value, (item) => {
    if (!ArrayBuffer.isView(item) || item instanceof DataView) return WALK_INTO;
    const view = item as TypedArray;
    if (view.buffer instanceof SharedArrayBuffer) return view;
    if (view.byteLength >= SHARE_MIN_BYTES) return copyInto(view, new SharedArrayBuffer(view.byteLength));
    return view.byteLength === view.buffer.byteLength ? view : copyInto(view, new ArrayBuffer(view.byteLength));
  });
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

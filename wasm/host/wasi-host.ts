/**
 * The `wasi_snapshot_preview1` imports for one execution. Starts from browser_wasi_shim 0.4.2 and
 * replaces what it gets wrong or too permissive:
 * - fd_filestat_get / path_filestat_get: the shim writes atim/mtim/ctim at offsets 38/46/52 instead
 *   of 40/48/56 (so mtime reads 0 and ctime reads stale guest memory); here the layout is correct;
 * - poll_oneoff: see wasi-poll.ts;
 * - clock_time_get: only realtime and monotonic; the CPU-time clocks report time since the
 *   execution started; unknown clocks are ERRNO_INVAL (the shim answers 0 with success);
 * - random_get: always the host's CSPRNG (`randomFillSync`; `crypto.getRandomValues` took ~25 µs
 *   more per Python run, which asks 10 times);
 * - proc_exit: throws WasiExit, which the runner turns into an exit code;
 * - path_open: reuses closed fd numbers and caps open fds at MAX_OPEN_FDS;
 * - sockets, proc_raise and anything not listed: not supported (deny by default).
 * Args and environment are exactly what the caller passes: nothing of the host process.
 */
import { randomFillSync } from "node:crypto";
import { type Fd, Inode, WASI, wasi } from "@bjorn3/browser_wasi_shim";
import type { RunContext } from "../../src/sandbox/wasm/runtime.js";
import { GuestLimitError } from "./guest-limit.js";
import { type PollEnvironment, pollOneoff } from "./wasi-poll.js";
import { OutputFd, StdinFd } from "./wasi-stdio.js";

export const MAX_OPEN_FDS = 1024;

/** Thrown by proc_exit; unwinds the guest. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`the guest exited with status ${code}`);
    this.name = "WasiExit";
  }
}

export function isWasiExit(value: unknown): value is WasiExit {
  return value instanceof WasiExit;
}

/** What only the execution knows; given to an unstarted host when the execution starts. */
export interface WasiExecution {
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string | Uint8Array;
  readonly context: Pick<RunContext, "stdout" | "stderr" | "deadline" | "cancelled">;
  /** Preopened directories, given fds 3, 4, ... in this order. */
  readonly preopens: readonly Fd[];
}

export interface WasiHostOptions extends WasiExecution {
  readonly args: readonly string[];
}

type WasiFunction = (...args: never[]) => unknown;

export interface WasiHost {
  /** The `wasi_snapshot_preview1` import object. */
  readonly imports: Record<string, WasiFunction>;
  /** Must be called with the instance before any import runs (they read its exported memory). */
  bind(instance: WebAssembly.Instance): void;
}

/**
 * A host for one execution, built before that execution is known: with the never-used instance it
 * will serve, off the execution's path (the import table, the shim and their closures: ~12 us of
 * a ~18 us createWasiHost hot, most of Python's ~100 us host build after a 10 ms pause in a slow
 * phase). `start` hands it its execution, once, and returns the host whose imports the instance
 * gets: nothing can call them before.
 */
export interface UnstartedWasiHost {
  start(execution: WasiExecution): WasiHost;
}

/** random_get: fills the guest's buffer from the host's CSPRNG. */
function randomGet(buffer: () => ArrayBufferLike): WasiFunction {
  return (ptr: number, len: number): number => {
    randomFillSync(new Uint8Array(buffer(), ptr, len));
    return wasi.ERRNO_SUCCESS;
  };
}

/** The monotonic clock in nanoseconds. */
function monotonicNs(): bigint {
  return BigInt(Math.round(performance.now() * 1e6));
}

/** The realtime and monotonic clocks in nanoseconds; null for any other clock id. */
function wallClock(id: number): bigint | null {
  switch (id) {
    case wasi.CLOCKID_REALTIME:
      return BigInt(Date.now()) * 1_000_000n;
    case wasi.CLOCKID_MONOTONIC:
      return monotonicNs();
    default:
      return null;
  }
}

/**
 * The host a never-used instance on `memory` is prepared with before its execution's host is
 * attached (snapshot-module.ts `prepareWith`): random_get and the realtime and monotonic clocks,
 * what reseeding a PRNG asks for (Ruby's `srand` mixes the time into its seed). Any other import
 * throws there, so preparing cannot reach files, the request's data or output.
 */
export function preparingHost(memory: WebAssembly.Memory): WasiHost {
  return {
    imports: {
      random_get: randomGet(() => memory.buffer),
      clock_time_get: (id: number, _precision: bigint, timePtr: number): number => {
        const now = wallClock(id);
        if (now === null) return wasi.ERRNO_INVAL;
        new DataView(memory.buffer).setBigUint64(timePtr, now, true);
        return wasi.ERRNO_SUCCESS;
      },
    },
    bind: () => undefined,
  };
}

/** Every preview1 function; those the host does not implement answer ERRNO_NOSYS. */
export const PREVIEW1_FUNCTIONS = [
  "args_get",
  "args_sizes_get",
  "environ_get",
  "environ_sizes_get",
  "clock_res_get",
  "clock_time_get",
  "fd_advise",
  "fd_allocate",
  "fd_close",
  "fd_datasync",
  "fd_fdstat_get",
  "fd_fdstat_set_flags",
  "fd_fdstat_set_rights",
  "fd_filestat_get",
  "fd_filestat_set_size",
  "fd_filestat_set_times",
  "fd_pread",
  "fd_prestat_get",
  "fd_prestat_dir_name",
  "fd_pwrite",
  "fd_read",
  "fd_readdir",
  "fd_renumber",
  "fd_seek",
  "fd_sync",
  "fd_tell",
  "fd_write",
  "path_create_directory",
  "path_filestat_get",
  "path_filestat_set_times",
  "path_link",
  "path_open",
  "path_readlink",
  "path_remove_directory",
  "path_rename",
  "path_symlink",
  "path_unlink_file",
  "poll_oneoff",
  "proc_exit",
  "proc_raise",
  "sched_yield",
  "random_get",
  "sock_accept",
  "sock_recv",
  "sock_send",
  "sock_shutdown",
] as const;

/** Shim functions used unchanged: they only dispatch to our Fd objects or copy args/env. */
const SHIM_FUNCTIONS = new Set<string>([
  "args_get",
  "args_sizes_get",
  "environ_get",
  "environ_sizes_get",
  "clock_res_get",
  "fd_advise",
  "fd_allocate",
  "fd_close",
  "fd_datasync",
  "fd_fdstat_get",
  "fd_fdstat_set_flags",
  "fd_filestat_set_size",
  "fd_filestat_set_times",
  "fd_pread",
  "fd_prestat_get",
  "fd_prestat_dir_name",
  "fd_pwrite",
  "fd_read",
  "fd_readdir",
  "fd_seek",
  "fd_sync",
  "fd_tell",
  "fd_write",
  "path_create_directory",
  "path_filestat_set_times",
  "path_link",
  "path_readlink",
  "path_remove_directory",
  "path_rename",
  "path_symlink",
  "path_unlink_file",
]);

function writeFilestat(view: DataView, ptr: number, st: wasi.Filestat): void {
  view.setBigUint64(ptr, st.dev, true);
  view.setBigUint64(ptr + 8, st.ino, true);
  view.setBigUint64(ptr + 16, 0n, true);
  view.setUint8(ptr + 16, st.filetype);
  view.setBigUint64(ptr + 24, st.nlink, true);
  view.setBigUint64(ptr + 32, st.size, true);
  view.setBigUint64(ptr + 40, st.atim, true);
  view.setBigUint64(ptr + 48, st.mtim, true);
  view.setBigUint64(ptr + 56, st.ctim, true);
}

/** A host for one execution, its args and environment, stdin, output and preopens given now. */
export function createWasiHost(options: WasiHostOptions): WasiHost {
  return unstartedWasiHost(options.args).start(options);
}

/** The execution's side of a started host. */
interface Started {
  readonly context: WasiExecution["context"];
  readonly stdin: StdinFd;
  readonly startedNs: bigint;
}

/** A host whose execution is given later (UnstartedWasiHost); `args` are fixed now. */
export function unstartedWasiHost(args: readonly string[] = []): UnstartedWasiHost {
  // Set once by start(), which is also the only way to the imports: none runs before it.
  let started: Started | undefined;
  const run = (): Started => {
    if (!started) throw new Error("WASI host used before its execution started");
    return started;
  };
  const checkDeadline = (): void => {
    const { context } = run();
    if (context.cancelled() || Date.now() >= context.deadline) {
      throw new GuestLimitError("TIMEOUT", "the execution exceeded its time limit");
    }
  };
  // The shim reads these arrays through its own fields: start() fills `fds` in place and sets `env`.
  const fds: (Fd | undefined)[] = [];
  const shim = new WASI([...args], [], fds as Fd[], { debug: false });
  let instance: WebAssembly.Instance | null = null;

  const memory = (): WebAssembly.Memory => {
    const m = instance?.exports.memory;
    if (!(m instanceof WebAssembly.Memory))
      throw new Error("WASI host used before bind() or without an exported memory");
    return m;
  };
  const view = (): DataView => new DataView(memory().buffer);
  const readString = (ptr: number, len: number): string =>
    new TextDecoder("utf-8").decode(new Uint8Array(memory().buffer, ptr, len));

  const clockNow = (id: number): bigint | null => {
    switch (id) {
      case wasi.CLOCKID_PROCESS_CPUTIME_ID:
      case wasi.CLOCKID_THREAD_CPUTIME_ID:
        return monotonicNs() - run().startedNs;
      default:
        return wallClock(id);
    }
  };

  const pollEnv: PollEnvironment = {
    memory: view,
    readyBytes: (fd) => {
      const target = fds[fd];
      if (target === undefined) return null;
      const { stdin } = run();
      return target === stdin ? BigInt(stdin.remaining) : 0n;
    },
    now: clockNow,
    deadline: () => run().context.deadline,
    cancelled: () => run().context.cancelled(),
  };

  const notSupported = (): number => wasi.ERRNO_NOSYS;
  const own: Record<string, WasiFunction> = {
    clock_time_get: (id: number, _precision: bigint, timePtr: number): number => {
      checkDeadline();
      const now = clockNow(id);
      if (now === null) return wasi.ERRNO_INVAL;
      view().setBigUint64(timePtr, now, true);
      return wasi.ERRNO_SUCCESS;
    },
    fd_filestat_get: (fd: number, ptr: number): number => {
      const target = fds[fd];
      if (target === undefined) return wasi.ERRNO_BADF;
      const { ret, filestat } = target.fd_filestat_get();
      if (filestat) writeFilestat(view(), ptr, filestat);
      return ret;
    },
    path_filestat_get: (fd: number, flags: number, pathPtr: number, pathLen: number, ptr: number): number => {
      const target = fds[fd];
      if (target === undefined) return wasi.ERRNO_BADF;
      const { ret, filestat } = target.path_filestat_get(flags, readString(pathPtr, pathLen));
      if (filestat) writeFilestat(view(), ptr, filestat);
      return ret;
    },
    path_open: (
      fd: number,
      dirflags: number,
      pathPtr: number,
      pathLen: number,
      oflags: number,
      rightsBase: bigint,
      rightsInheriting: bigint,
      fdflags: number,
      openedPtr: number,
    ): number => {
      const dir = fds[fd];
      if (dir === undefined) return wasi.ERRNO_BADF;
      let slot = fds.indexOf(undefined, 3);
      if (slot < 0) slot = fds.length;
      if (slot >= MAX_OPEN_FDS) return wasi.ERRNO_MFILE;
      const path = readString(pathPtr, pathLen);
      const { ret, fd_obj } = dir.path_open(dirflags, path, oflags, rightsBase, rightsInheriting, fdflags);
      if (ret !== wasi.ERRNO_SUCCESS || fd_obj === null) return ret === wasi.ERRNO_SUCCESS ? wasi.ERRNO_IO : ret;
      fds[slot] = fd_obj;
      view().setUint32(openedPtr, slot, true);
      return wasi.ERRNO_SUCCESS;
    },
    poll_oneoff: (inPtr: number, outPtr: number, n: number, neventsPtr: number): number =>
      pollOneoff(pollEnv, inPtr, outPtr, n, neventsPtr),
    proc_exit: (code: number): never => {
      throw new WasiExit(code);
    },
    random_get: randomGet(() => memory().buffer),
    sched_yield: (): number => wasi.ERRNO_SUCCESS,
  };

  const imports: Record<string, WasiFunction> = {};
  for (const name of PREVIEW1_FUNCTIONS) {
    const shimFunction = shim.wasiImport[name];
    imports[name] = own[name] ?? (SHIM_FUNCTIONS.has(name) && shimFunction ? shimFunction : notSupported);
  }

  const host: WasiHost = {
    imports,
    bind(target: WebAssembly.Instance): void {
      instance = target;
      shim.inst = target as unknown as typeof shim.inst;
    },
  };
  return {
    start(execution: WasiExecution): WasiHost {
      if (started) throw new Error("this WASI host already has its execution");
      const { context } = execution;
      const stdinBytes =
        typeof execution.stdin === "string" ? new TextEncoder().encode(execution.stdin) : execution.stdin;
      const stdin = new StdinFd(stdinBytes, Inode.issue_ino());
      started = { context, stdin, startedNs: monotonicNs() };
      fds.push(
        stdin,
        new OutputFd(context.stdout, Inode.issue_ino(), checkDeadline),
        new OutputFd(context.stderr, Inode.issue_ino(), checkDeadline),
        ...execution.preopens,
      );
      shim.env = Object.entries(execution.env).map(([k, v]) => `${k}=${v}`);
      return host;
    },
  };
}

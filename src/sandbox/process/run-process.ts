/**
 * Spawn one guest process and supervise it: stdin in, capped stdout/stderr out, a hard deadline,
 * cancellation, and an optional periodic check (the workspace quota). Shared by ProcessSandbox
 * (the spawned process is prlimit -> bwrap, a wrapper) and NoopSandbox (the interpreter itself).
 *
 * Stopping: a deadline or cancellation sends SIGTERM to the guest, then SIGKILL to everything
 * `killGraceMs` later. An output or quota overrun is abuse and gets SIGKILL at once. The spawned
 * process leads its own process group (`detached`), so a group kill reaches the guest's children;
 * under bwrap, SIGKILL on the wrapper tears down the guest's PID namespace (`--die-with-parent`).
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import type { Readable, Writable } from "node:stream";
import { descendants, signalQuietly } from "./process-tree.js";

export type StopReason = "TIMEOUT" | "CANCELLED" | "OUTPUT_LIMIT" | "FILESYSTEM_LIMIT";

export interface SupervisedCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Host uid/gid to run as (needs the server to be root). */
  readonly uid?: number;
  readonly gid?: number;
  readonly stdin: string | Uint8Array;
  /** Bytes written to the child's fd 3 and then closed (bwrap reads its arguments from there). */
  readonly fd3?: Uint8Array;
  /**
   * True when the spawned process is the guest itself: SIGTERM goes to its process group.
   * False for a wrapper: SIGTERM goes to the wrapper's descendants only (the wrapper would die of it
   * and take the guest with it, skipping the grace period).
   */
  readonly rootIsGuest: boolean;
}

export interface SupervisionLimits {
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly maxOutputBytes: number;
}

export interface Watch {
  readonly intervalMs: number;
  /** Return a reason to stop the guest, or null to let it run. */
  check(): Promise<StopReason | null>;
}

export interface SupervisedResult {
  /** null when the process was stopped by us or died of a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly truncated: { readonly stdout: boolean; readonly stderr: boolean };
  readonly stoppedBy: StopReason | null;
  readonly durationMs: number;
}

/** After SIGKILL of a wrapper's descendants, how long the wrapper gets to reap them and exit. */
const WRAPPER_EXIT_MS = 100;
/** After SIGKILL, how long to wait for the pipes to close before abandoning them. */
const PIPE_DRAIN_MS = 2_000;

class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  /** Keep at most `max` bytes in total; returns false once more than that was offered. */
  push(chunk: Buffer): boolean {
    const room = this.max - this.length;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.length += chunk.length;
      return true;
    }
    if (room > 0) this.chunks.push(chunk.subarray(0, room));
    this.length = this.max;
    this.truncated = true;
    return false;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

export function runSupervised(
  cmd: SupervisedCommand,
  limits: SupervisionLimits,
  options: { readonly signal?: AbortSignal; readonly watch?: Watch } = {},
): Promise<SupervisedResult> {
  const started = performance.now();
  if (options.signal?.aborted) {
    return Promise.resolve({
      exitCode: null,
      signal: null,
      stdout: Buffer.alloc(0),
      stderr: Buffer.alloc(0),
      truncated: { stdout: false, stderr: false },
      stoppedBy: "CANCELLED",
      durationMs: 0,
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.command, [...cmd.args], {
      cwd: cmd.cwd,
      env: { ...cmd.env },
      detached: true,
      stdio: cmd.fd3 === undefined ? ["pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe", "pipe"],
      ...(cmd.uid === undefined ? {} : { uid: cmd.uid }),
      ...(cmd.gid === undefined ? {} : { gid: cmd.gid }),
    });
    const stdout = new CappedOutput(limits.maxOutputBytes);
    const stderr = new CappedOutput(limits.maxOutputBytes);
    const timers = new Set<NodeJS.Timeout>();
    let stoppedBy: StopReason | null = null;
    let settled = false;
    let watching = options.watch !== undefined;

    const later = (ms: number, fn: () => void): void => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    };

    const killHard = (): void => {
      const pid = child.pid;
      if (pid === undefined) return;
      if (cmd.rootIsGuest) {
        signalQuietly(-pid, "SIGKILL");
        signalQuietly(pid, "SIGKILL");
      }
      // Kill what runs under the wrapper first, so the wrapper reaps it and exits on its own (killing
      // the wrapper first would leave its children as zombies for the host's init to collect);
      // then the wrapper itself, in case it is still there.
      void descendants(pid).then((pids) => {
        for (const p of pids) signalQuietly(p, "SIGKILL");
        later(WRAPPER_EXIT_MS, () => {
          signalQuietly(-pid, "SIGKILL");
          signalQuietly(pid, "SIGKILL");
        });
      });
      later(PIPE_DRAIN_MS, () => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      });
    };

    const stop = (reason: StopReason): void => {
      if (stoppedBy !== null || settled) return;
      stoppedBy = reason;
      watching = false;
      const pid = child.pid;
      if (pid === undefined) return;
      if (reason === "OUTPUT_LIMIT" || reason === "FILESYSTEM_LIMIT" || limits.killGraceMs <= 0) {
        killHard();
        return;
      }
      if (cmd.rootIsGuest) signalQuietly(-pid, "SIGTERM");
      else {
        void descendants(pid).then((pids) => {
          for (const p of pids) signalQuietly(p, "SIGTERM");
        });
      }
      later(limits.killGraceMs, killHard);
    };

    const collect = (stream: Readable | null, into: CappedOutput): void => {
      stream?.on("data", (chunk: Buffer) => {
        if (into.truncated) return;
        if (!into.push(chunk)) {
          stop("OUTPUT_LIMIT");
          stream.destroy();
        }
      });
      stream?.on("error", () => {
        // a destroyed pipe; the exit path reports what happened
      });
    };
    collect(child.stdout, stdout);
    collect(child.stderr, stderr);

    const onAbort = (): void => stop("CANCELLED");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    later(limits.timeoutMs, () => stop("TIMEOUT"));

    const watch = options.watch;
    if (watch !== undefined) {
      const tick = (): void => {
        if (!watching) return;
        watch.check().then(
          (reason) => {
            if (reason !== null) stop(reason);
            else later(watch.intervalMs, tick);
          },
          () => later(watch.intervalMs, tick),
        );
      };
      later(watch.intervalMs, tick);
    }

    child.on("error", (error) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      reject(error);
    });

    child.on("exit", () => {
      // The guest itself is gone; in a plain process group, reap whatever it left running.
      if (cmd.rootIsGuest && child.pid !== undefined) signalQuietly(-child.pid, "SIGKILL");
    });

    child.on("close", (code, signal) => {
      if (settled) return;
      settled = true;
      watching = false;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve({
        exitCode: stoppedBy === null ? code : null,
        signal,
        stdout: stdout.bytes(),
        stderr: stderr.bytes(),
        truncated: { stdout: stdout.truncated, stderr: stderr.truncated },
        stoppedBy,
        durationMs: Math.round(performance.now() - started),
      });
    });

    const input = child.stdin;
    input?.on("error", () => {
      // the guest closed stdin without reading it all: not an error
    });
    input?.end(typeof cmd.stdin === "string" ? Buffer.from(cmd.stdin, "utf8") : cmd.stdin);
    if (cmd.fd3 !== undefined) {
      const fd3 = child.stdio[3] as Writable | null | undefined;
      fd3?.on("error", () => {
        // bwrap exited before reading its arguments; its stderr says why
      });
      fd3?.end(cmd.fd3);
    }
  });
}

/**
 * The log destination of `npm start`: lines written to a file descriptor (stdout) in batches, at
 * least `minBytes` or whatever accumulated within `flushMs`, instead of one write(2) per line. A
 * warm execution logs a few lines; one write each cost the main thread a syscall and a thread-pool
 * wake-up.
 *
 * A line that comes when nothing was written for `flushMs` is written `promptMs` later; only the
 * lines that follow it within `flushMs` wait for the batch. So a quiet server's lines, a start's
 * "wasm runtime available" among them, show when they happen instead of up to `flushMs` later
 * (whoever watches the log for them learned of a language ~0.13 s late on average), and a busy one
 * still writes once per `flushMs`. A full batch (`minBytes`) is written `promptMs` later too.
 *
 * Why a few milliseconds later, not at once or on the next turn of the event loop: a write is a
 * thread-pool wake-up, and an execution logs its "execution finished" line before its result's
 * commit is fsynced and the client answered. On the next turn, the write went out ahead of that
 * fsync: measured with benchmarks/dev/trace-paused.ts (Python, one client pausing 1 s), ~80 us on
 * every execution's reply path (the thread-pool thread woken and run on the main thread's core
 * first), which is every execution of an agent that pauses more than ~0.5 s between calls. Written at once
 * when the batch filled, the same happened to one execution in ~7 of a client pausing 10 ms.
 * `promptMs` after the line, the reply is out and the core idle.
 *
 * Why not pino's own `destination({ sync: false, minLength })` (sonic-boom 4.2): when the reader of
 * stdout is gone, its synchronous flush at exit retries EPIPE forever (it only gives up on errors it
 * considers retryable), so a server whose log consumer died never finishes shutting down. Here any
 * write error marks the destination broken: later lines are dropped, and exit is never held up.
 * Only a SIGKILL or a crash of the runtime itself loses the last `flushMs` of lines.
 */
import { write, writeSync } from "node:fs";

export interface BatchedOptions {
  readonly fd: number;
  readonly minBytes: number;
  readonly flushMs: number;
  /** How long after the line that calls for a write (a full batch, or one after a quiet spell) it starts. */
  readonly promptMs: number;
}

export class BatchedDestination {
  private pending: string[] = [];
  private pendingBytes = 0;
  private writing = false;
  private broken = false;
  /** When the last write began (performance.now()); none yet: the first line goes out promptly. */
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  /** The write a full batch or a line after a quiet spell called for, `promptMs` after it. */
  private prompt: NodeJS.Timeout | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: BatchedOptions) {
    this.timer = setInterval(() => this.flush(), options.flushMs);
    this.timer.unref();
    process.once("exit", () => this.flushSync());
  }

  /** Whether a write failed (the reader is gone); lines are dropped from then on. */
  get isBroken(): boolean {
    return this.broken;
  }

  write(line: string): void {
    if (this.broken) return;
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.prompt !== undefined) return;
    if (this.pendingBytes >= this.options.minBytes || performance.now() - this.lastWriteAt >= this.options.flushMs) {
      this.prompt = setTimeout(() => {
        this.prompt = undefined;
        this.flush();
      }, this.options.promptMs);
      this.prompt.unref();
    }
  }

  /** Starts an asynchronous write of everything pending (one at a time). */
  flush(): void {
    if (this.writing || this.broken || this.pendingBytes === 0) return;
    const data = Buffer.from(this.take());
    this.writing = true;
    this.lastWriteAt = performance.now();
    this.writeAll(data, 0);
  }

  /** Writes everything pending now; gives up (and drops the rest) at the first error. */
  flushSync(): void {
    clearInterval(this.timer);
    if (this.prompt !== undefined) clearTimeout(this.prompt);
    this.prompt = undefined;
    if (this.broken || this.pendingBytes === 0) return;
    const data = Buffer.from(this.take());
    let offset = 0;
    try {
      // EAGAIN on a non-blocking descriptor is retried a bounded number of times, then dropped.
      for (let attempts = 0; offset < data.length && attempts < 1000; attempts++) {
        try {
          offset += writeSync(this.options.fd, data, offset);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
        }
      }
    } catch {
      this.broken = true;
    }
  }

  private take(): string {
    const text = this.pending.join("");
    this.pending = [];
    this.pendingBytes = 0;
    return text;
  }

  private writeAll(data: Buffer, offset: number): void {
    write(this.options.fd, data, offset, data.length - offset, null, (error, written) => {
      if (error && error.code !== "EAGAIN") {
        this.broken = true;
        this.pending = [];
        this.pendingBytes = 0;
        this.writing = false;
        return;
      }
      const next = offset + (error ? 0 : written);
      if (next < data.length) {
        if (error) setTimeout(() => this.writeAll(data, next), 10);
        else this.writeAll(data, next);
        return;
      }
      this.writing = false;
      if (this.pendingBytes >= this.options.minBytes) this.flush();
    });
  }
}

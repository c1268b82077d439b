/**
 * Group commit for the SQLite WAL: makes every commit written so far durable with one fsync of the
 * `-wal` file, outside SQLite's commit.
 *
 * Why: with `synchronous=FULL`, SQLite fsyncs inside each COMMIT, and better-sqlite3 runs on the main
 * thread, so every commit stalled every request for the length of an fsync (2-4 ms here, more under
 * load), one commit at a time. Instead the store commits with `synchronous=NORMAL` (the frames reach
 * the OS at once: a crash of this process loses nothing) and then calls `sync()` before it answers a
 * write: the WAL is append-only between checkpoints and SQLite fsyncs it before any checkpoint, so an
 * fsync of the file started after a commit was written makes that commit as durable as FULL would.
 * A round of fsync begins once the current turn of the event loop has run (setImmediate), so the
 * commits of one turn share it; writes that arrive while an fsync is in flight share the next one.
 *
 * Where the fsync runs (KeptOpenFile): on this thread while fsyncs are fast, on libuv's thread pool
 * once they are slow. Measured here: an fsync of the WAL takes ~0.13-0.4 ms, and handing it to the
 * thread pool and getting the answer back costs ~0.3 ms more (two thread wake-ups on a busy
 * machine), on the reply path of every durable write. A slow disk must not stall the event loop,
 * though. "Slow" is the median of the last INLINE_FSYNC_WINDOW inline fsyncs above
 * INLINE_FSYNC_MAX_MS, or one fsync above INLINE_FSYNC_STALL_MS. Then the next ones go to the
 * thread pool for a while, and only after a back-off (doubling up to POOLED_BACKOFF_MAX_MS) does one
 * run inline again to probe. Why a median: under load here, one inline fsync in ten took 1-3 ms
 * (p50 0.27-0.4 ms). When one such fsync was enough, the server ran ~95% of its fsyncs on the pool,
 * and the thread-pool round trip cost every execution its wake-ups.
 *
 * A fast fsync still holds up everything else the event loop has to do. With many clients at once
 * that can cost more than the round trip saves: inline by the median rule alone, 32 concurrent
 * JavaScript clients got 6-14% fewer executions per second in 3 alternating pairs. So while the
 * event loop is saturated (eventLoopBusy: over 90% busy in the last 20 ms window), fsyncs go to the
 * thread pool whatever their speed. Python with one or two clients kept it at ~0.45-0.8 (p10-p90 of
 * the windows, one instrumented run).
 *
 * An fsync that fails leaves the page cache in an unknown state (a retry can report success for data
 * that never reached the disk), so one failure poisons this object: every later `sync()` rejects
 * until the process restarts. The store turns that into STORE_UNAVAILABLE: fail closed.
 */
import { closeSync, fstatSync, fsync, fsyncSync, openSync, statSync } from "node:fs";
import { performance } from "node:perf_hooks";

/** fsyncs the file at `path` (opened read-only: fsync flushes the inode, whatever the descriptor). */
export type FileSync = (path: string) => Promise<void>;

/** A median inline fsync longer than this (ms) sends the following ones to the thread pool for a while. */
export const INLINE_FSYNC_MAX_MS = 1;
/** How many recent inline fsyncs that median is taken over (half of them at least). */
export const INLINE_FSYNC_WINDOW = 16;
/** One inline fsync longer than this (ms) sends the following ones to the thread pool at once. */
export const INLINE_FSYNC_STALL_MS = 10;
/** The first back-off after a slow inline fsync (ms); it doubles while the probes stay slow. */
export const POOLED_BACKOFF_MIN_MS = 1_000;
export const POOLED_BACKOFF_MAX_MS = 64_000;

/** How KeptOpenFile fsyncs a descriptor, and its clock (tests replace them). */
export interface FsyncOps {
  /** Blocks this thread until the descriptor is on disk. */
  readonly inline: (fd: number) => void;
  /** The same on the thread pool. */
  readonly pooled: (fd: number, done: (error: Error | null) => void) => void;
  /** Milliseconds, monotonic. */
  readonly now: () => number;
  /** Whether this thread's event loop has been busy lately (then an inline fsync would hold others up). */
  readonly loopBusy: () => boolean;
}

/** The event loop counts as busy when it was busy more than this share of the last window. */
export const BUSY_LOOP_UTILIZATION = 0.9;
/** The window (ms) over which the event loop's utilization is measured. */
export const BUSY_LOOP_WINDOW_MS = 20;

/**
 * Whether the event loop was busy more than BUSY_LOOP_UTILIZATION of the last whole window of
 * BUSY_LOOP_WINDOW_MS (Node's event loop utilization: the share of time not spent waiting for
 * events). Cheap enough to call per fsync: it reads two counters.
 */
export function eventLoopBusy(): () => boolean {
  let since = performance.eventLoopUtilization();
  let busy = false;
  return () => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, since);
    if (window.idle + window.active >= BUSY_LOOP_WINDOW_MS) {
      busy = window.utilization > BUSY_LOOP_UTILIZATION;
      since = now;
    }
    return busy;
  };
}

function nodeFsyncOps(): FsyncOps {
  return { inline: fsyncSync, pooled: fsync, now: () => performance.now(), loopBusy: eventLoopBusy() };
}

/**
 * fsyncs `path` through a descriptor kept open between calls: one fsync per call instead of an open,
 * an fsync and a close (each a trip to the thread pool, on the reply path of every durable write).
 * The fsync runs inline or on the thread pool (see the top of this file). Before each fsync a stat
 * of the path (on this thread, microseconds) checks that it still names the file the descriptor
 * holds; if the path was replaced or removed, the old descriptor is closed and the path opened again
 * (or the call fails like an open would), so an fsync never goes to a file the store no longer
 * writes. SQLite keeps its `-wal` file (the same inode, reset in place) for as long as the
 * connection is open, so in practice it is opened once.
 */
export class KeptOpenFile {
  private held: { readonly path: string; readonly fd: number; readonly dev: number; readonly ino: number } | undefined;
  /** Descriptors no longer held, closed once no fsync uses them. */
  private readonly retired: number[] = [];
  private inFlight = 0;
  /** Before this time (ops.now()) every fsync goes to the thread pool. */
  private pooledUntil = Number.NEGATIVE_INFINITY;
  private backoffMs = POOLED_BACKOFF_MIN_MS;
  /** The last inline fsyncs' durations (ms), since the last probe. */
  private recent: number[] = [];
  /** The next inline fsync is the probe after a back-off. */
  private probing = false;
  private readonly counts = { inline: 0, pooled: 0 };

  constructor(private readonly ops: FsyncOps = nodeFsyncOps()) {}

  /** fsyncs run so far, by where they ran. */
  get fsyncs(): { readonly inline: number; readonly pooled: number } {
    return { ...this.counts };
  }

  readonly sync: FileSync = (path) =>
    new Promise<void>((resolve, reject) => {
      let fd: number;
      try {
        fd = this.descriptorFor(path);
      } catch (error) {
        reject(error);
        return;
      }
      if (this.ops.now() >= this.pooledUntil && !this.ops.loopBusy()) {
        try {
          this.syncInline(fd);
        } catch (error) {
          reject(error);
          return;
        }
        resolve();
        return;
      }
      this.counts.pooled++;
      this.inFlight++;
      this.ops.pooled(fd, (error) => {
        this.inFlight--;
        this.closeRetired();
        if (error) reject(error);
        else resolve();
      });
    });

  /** One fsync on this thread; when fsyncs are slow, the next ones go to the thread pool for a back-off. */
  private syncInline(fd: number): void {
    this.counts.inline++;
    const started = this.ops.now();
    try {
      this.ops.inline(fd);
    } finally {
      const ended = this.ops.now();
      if (this.slow(ended - started)) {
        this.pooledUntil = ended + this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, POOLED_BACKOFF_MAX_MS);
        this.recent = [];
        this.probing = true;
      }
    }
  }

  /**
   * Whether fsyncs are slow, given one more inline fsync of `ms`: a stall, a slow probe, or a slow
   * median once half a window was seen. A whole window with a fast median resets the back-off (a
   * disk that is slow now and then keeps doubling it, one that recovered starts over).
   */
  private slow(ms: number): boolean {
    if (ms > INLINE_FSYNC_STALL_MS) return true;
    if (this.probing) {
      this.probing = false;
      this.recent = [ms];
      return ms > INLINE_FSYNC_MAX_MS;
    }
    this.recent.push(ms);
    if (this.recent.length > INLINE_FSYNC_WINDOW) this.recent.shift();
    if (this.recent.length < INLINE_FSYNC_WINDOW / 2) return false;
    const sorted = [...this.recent].sort((a, b) => a - b);
    if ((sorted[sorted.length >> 1] as number) > INLINE_FSYNC_MAX_MS) return true;
    if (this.recent.length === INLINE_FSYNC_WINDOW) this.backoffMs = POOLED_BACKOFF_MIN_MS;
    return false;
  }

  /** Closes the descriptor (once no fsync is using it); a later sync() opens the file again. */
  close(): void {
    this.release();
  }

  private descriptorFor(path: string): number {
    const now = statSync(path);
    const held = this.held;
    if (held && held.path === path && held.dev === now.dev && held.ino === now.ino) return held.fd;
    this.release();
    const fd = openSync(path, "r");
    const opened = fstatSync(fd);
    this.held = { path, fd, dev: opened.dev, ino: opened.ino };
    return fd;
  }

  /** Drops the held descriptor; closed now, or once the fsyncs still using it ended. */
  private release(): void {
    if (this.held) this.retired.push(this.held.fd);
    this.held = undefined;
    this.closeRetired();
  }

  private closeRetired(): void {
    if (this.inFlight > 0) return;
    for (const fd of this.retired.splice(0)) closeSync(fd);
  }
}

export class WalSync {
  /** The fsync in flight, if any. */
  private current: Promise<void> | undefined;
  /**
   * The round not begun yet (it waits for `current` to end and for this turn of the event loop to
   * run): it covers every write made before it begins.
   */
  private next: Promise<void> | undefined;
  private failure: Error | undefined;
  private rounds = 0;

  private readonly file: KeptOpenFile | undefined;
  private readonly syncFile: FileSync;

  /** `syncFile`: how one round fsyncs the file (default: a KeptOpenFile, closed by close()). */
  constructor(
    private readonly walPath: string,
    syncFile?: FileSync,
  ) {
    this.file = syncFile ? undefined : new KeptOpenFile();
    this.syncFile = syncFile ?? (this.file as KeptOpenFile).sync;
  }

  /** Releases the kept-open file (the store closes). */
  close(): void {
    this.file?.close();
  }

  /** fsyncs started so far (each may have covered many commits). */
  get fsyncs(): number {
    return this.rounds;
  }

  /** Why the WAL can no longer be made durable, once an fsync has failed. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Resolves once everything written before this call is on disk; rejects once poisoned. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    // A queued round has not started yet, so it will cover this write too.
    if (this.next) return this.next;
    // The round in flight, if any, may have started before this write: it needs the next one, which
    // begins once that one ended and this turn of the event loop has run (its other commits join it).
    const next = (this.current ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        this.next = undefined;
        return this.failure ? Promise.reject(this.failure) : this.start();
      });
    this.next = next;
    return next;
  }

  private start(): Promise<void> {
    this.rounds++;
    const round = this.syncFile(this.walPath).then(
      () => {
        if (this.current === round) this.current = undefined;
      },
      (error: unknown) => {
        if (this.current === round) this.current = undefined;
        this.failure ??= error instanceof Error ? error : new Error(String(error));
        throw this.failure;
      },
    );
    this.current = round;
    return round;
  }
}

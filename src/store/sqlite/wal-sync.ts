/**
 * Group commit for the SQLite WAL: makes every commit written so far durable with one fsync of the
 * `-wal` file, run on libuv's thread pool instead of inside SQLite's commit on the event loop.
 *
 * Why: with `synchronous=FULL`, SQLite fsyncs inside each COMMIT, and better-sqlite3 runs on the main
 * thread, so every commit stalled every request for the length of an fsync (2-4 ms here, more under
 * load), one commit at a time. Instead the store commits with `synchronous=NORMAL` (the frames reach
 * the OS at once: a crash of this process loses nothing) and then calls `sync()` before it answers a
 * write: the WAL is append-only between checkpoints and SQLite fsyncs it before any checkpoint, so an
 * fsync of the file started after a commit was written makes that commit as durable as FULL would.
 * Writes that arrive while an fsync is in flight share the next one.
 *
 * An fsync that fails leaves the page cache in an unknown state (a retry can report success for data
 * that never reached the disk), so one failure poisons this object: every later `sync()` rejects
 * until the process restarts. The store turns that into STORE_UNAVAILABLE: fail closed.
 */
import { open } from "node:fs/promises";

/** fsyncs the file at `path` (opened read-only: fsync flushes the inode, whatever the descriptor). */
export type FileSync = (path: string) => Promise<void>;

export const fsyncFile: FileSync = async (path) => {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

export class WalSync {
  /** The fsync in flight, if any. */
  private current: Promise<void> | undefined;
  /** The fsync queued behind `current`: it covers every write made after `current` started. */
  private next: Promise<void> | undefined;
  private failure: Error | undefined;
  private rounds = 0;

  constructor(
    private readonly walPath: string,
    private readonly syncFile: FileSync = fsyncFile,
  ) {}

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
    if (!this.current) return this.start();
    // The round in flight may have started before this write: it needs the next one.
    const next = this.current
      .catch(() => undefined)
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

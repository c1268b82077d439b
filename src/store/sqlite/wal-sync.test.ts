import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BUSY_LOOP_UTILIZATION,
  BUSY_LOOP_WINDOW_MS,
  eventLoopBusy,
  type FsyncOps,
  INLINE_FSYNC_MAX_MS,
  INLINE_FSYNC_STALL_MS,
  INLINE_FSYNC_WINDOW,
  KeptOpenFile,
  POOLED_BACKOFF_MIN_MS,
  WalSync,
} from "./wal-sync.js";

/** A file sync whose rounds the test finishes by hand. */
function manualSync() {
  const rounds: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const syncFile = (_path: string) =>
    new Promise<void>((resolve, reject) => {
      rounds.push({ resolve, reject });
    });
  return { rounds, syncFile };
}

/** A test body given a real `-wal`-like file in a temp directory removed afterwards. */
function withFile(test: (path: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "wal-sync-"));
    try {
      const path = join(dir, "db-wal");
      writeFileSync(path, "frames");
      await test(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Lets turns of the event loop pass until `done()` holds (at most 20). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 20 && !done(); i++) await tick();
  expect(done()).toBe(true);
}

describe("WalSync", () => {
  it("starts one fsync for a write once this turn of the event loop has run", async () => {
    const { rounds, syncFile } = manualSync();
    const wal = new WalSync("/x-wal", syncFile);
    let done = false;
    const synced = wal.sync().then(() => {
      done = true;
    });
    expect(rounds).toHaveLength(0);
    await until(() => rounds.length === 1);
    await tick();
    expect(done).toBe(false);
    rounds[0]?.resolve();
    await synced;
    expect(done).toBe(true);
    expect(wal.fsyncs).toBe(1);
  });

  it("gives the writes of one turn one fsync", async () => {
    const { rounds, syncFile } = manualSync();
    const wal = new WalSync("/x-wal", syncFile);
    const writes = [wal.sync(), wal.sync(), wal.sync()];
    await until(() => rounds.length === 1);
    await tick();
    expect(rounds).toHaveLength(1);
    rounds[0]?.resolve();
    await Promise.all(writes);
    expect(wal.fsyncs).toBe(1);
  });

  it("makes writes that arrive during an fsync wait for the next one, and share it", async () => {
    const { rounds, syncFile } = manualSync();
    const wal = new WalSync("/x-wal", syncFile);
    const first = wal.sync();
    await until(() => rounds.length === 1);
    const settled: string[] = [];
    const second = wal.sync().then(() => settled.push("second"));
    const third = wal.sync().then(() => settled.push("third"));
    await tick();
    expect(rounds).toHaveLength(1);
    rounds[0]?.resolve();
    await first;
    await until(() => rounds.length === 2);
    // The first round may have started before the later writes: they are not durable yet.
    expect(settled).toEqual([]);
    rounds[1]?.resolve();
    await Promise.all([second, third]);
    expect(settled).toEqual(["second", "third"]);
    expect(wal.fsyncs).toBe(2);
  });

  it("is poisoned by a failed fsync: that write and every later one reject", async () => {
    const { rounds, syncFile } = manualSync();
    const wal = new WalSync("/x-wal", syncFile);
    const first = wal.sync();
    await until(() => rounds.length === 1);
    const queued = wal.sync();
    rounds[0]?.reject(new Error("EIO"));
    await expect(first).rejects.toThrow("EIO");
    await expect(queued).rejects.toThrow("EIO");
    await expect(wal.sync()).rejects.toThrow("EIO");
    expect(rounds).toHaveLength(1);
    expect(wal.failed?.message).toBe("EIO");
  });

  it(
    "fsyncs a real file, and fails for a missing one",
    withFile(async (path) => {
      const file = new KeptOpenFile();
      await expect(file.sync(path)).resolves.toBeUndefined();
      file.close();
      await expect(new WalSync(`${path}-missing`).sync()).rejects.toThrow(/ENOENT/);
    }),
  );

  it(
    "keeps the file open between fsyncs, and reopens a path that was replaced or fails when it is gone",
    withFile(async (path) => {
      const file = new KeptOpenFile();
      try {
        await file.sync(path);
        await file.sync(path);
        // One descriptor, held across the two fsyncs.
        expect(descriptorsOf(path)).toEqual([path]);
        // Replaced (a new inode under the same name): the old one is closed, the new one opened.
        rmSync(path);
        writeFileSync(path, "new frames");
        await file.sync(path);
        expect(descriptorsOf(path)).toEqual([path]);
        // Gone: fails like an open would, and holds nothing open.
        rmSync(path);
        await expect(file.sync(path)).rejects.toThrow(/ENOENT/);
        file.close();
        expect(descriptorsOf(path)).toEqual([]);
      } finally {
        file.close();
      }
    }),
  );
});

describe("KeptOpenFile: where the fsync runs", () => {
  /** Fake fsyncs on a hand-moved clock: an inline fsync takes `inlineMs` of it. */
  function fakeOps() {
    const state = { clock: 0, inlineMs: 0.2, pooledError: null as Error | null, busy: false };
    const ops: FsyncOps = {
      inline: () => {
        state.clock += state.inlineMs;
      },
      pooled: (_fd, done) => {
        setImmediate(() => done(state.pooledError));
      },
      now: () => state.clock,
      loopBusy: () => state.busy,
    };
    return { state, ops };
  }

  it(
    "fsyncs on this thread while fsyncs are fast",
    withFile(async (path) => {
      const { ops } = fakeOps();
      const file = new KeptOpenFile(ops);
      for (let i = 0; i < 3; i++) await file.sync(path);
      expect(file.fsyncs).toEqual({ inline: 3, pooled: 0 });
      file.close();
    }),
  );

  it(
    "stays inline through an occasional slow fsync, and moves to the thread pool once the median is slow",
    withFile(async (path) => {
      const { state, ops } = fakeOps();
      const file = new KeptOpenFile(ops);
      // One fsync in four takes 3 ms (under the stall cap): the median stays fast.
      for (let i = 0; i < 2 * INLINE_FSYNC_WINDOW; i++) {
        state.inlineMs = i % 4 === 0 ? INLINE_FSYNC_MAX_MS + 2 : 0.3;
        await file.sync(path);
      }
      expect(file.fsyncs).toEqual({ inline: 2 * INLINE_FSYNC_WINDOW, pooled: 0 });
      // Every fsync slow: once more than half the window is slow, the median is.
      state.inlineMs = INLINE_FSYNC_MAX_MS + 2;
      for (let i = 0; i < INLINE_FSYNC_WINDOW; i++) await file.sync(path);
      const { inline } = file.fsyncs;
      expect(inline).toBeGreaterThan(2 * INLINE_FSYNC_WINDOW);
      expect(inline).toBeLessThanOrEqual(2 * INLINE_FSYNC_WINDOW + INLINE_FSYNC_WINDOW / 2 + 1);
      expect(file.fsyncs.pooled).toBe(3 * INLINE_FSYNC_WINDOW - inline);
      file.close();
    }),
  );

  it(
    "moves to the thread pool after one stall, probes inline after a back-off that doubles, and stays inline once fast",
    withFile(async (path) => {
      const { state, ops } = fakeOps();
      const file = new KeptOpenFile(ops);
      state.inlineMs = INLINE_FSYNC_STALL_MS + 1;
      await file.sync(path); // a stall: the pool until clock + 1 s
      state.clock += POOLED_BACKOFF_MIN_MS - 1;
      await file.sync(path);
      expect(file.fsyncs).toEqual({ inline: 1, pooled: 1 });
      state.inlineMs = INLINE_FSYNC_MAX_MS + 1;
      state.clock += 2;
      await file.sync(path); // the probe: slow (one is enough for a probe), the pool for 2 s
      state.clock += 2 * POOLED_BACKOFF_MIN_MS - 1;
      await file.sync(path);
      expect(file.fsyncs).toEqual({ inline: 2, pooled: 2 });
      state.inlineMs = 0.2;
      state.clock += 2;
      await file.sync(path); // the probe is fast: inline again
      await file.sync(path);
      expect(file.fsyncs).toEqual({ inline: 4, pooled: 2 });
      // Not a whole fast window yet: the next stall doubles the back-off to 4 s.
      state.inlineMs = INLINE_FSYNC_STALL_MS + 1;
      await file.sync(path);
      state.clock += 4 * POOLED_BACKOFF_MIN_MS - 1;
      await file.sync(path);
      expect(file.fsyncs).toEqual({ inline: 5, pooled: 3 });
      // A fast probe and a whole fast window: the back-off starts over at its minimum.
      state.inlineMs = 0.2;
      state.clock += 2;
      for (let i = 0; i < INLINE_FSYNC_WINDOW; i++) await file.sync(path);
      expect(file.fsyncs).toEqual({ inline: 5 + INLINE_FSYNC_WINDOW, pooled: 3 });
      state.inlineMs = INLINE_FSYNC_STALL_MS + 1;
      await file.sync(path);
      state.clock += POOLED_BACKOFF_MIN_MS + 1;
      state.inlineMs = 0.2;
      await file.sync(path);
      expect(file.fsyncs).toEqual({ inline: 7 + INLINE_FSYNC_WINDOW, pooled: 3 });
      file.close();
    }),
  );

  it(
    "sends fast fsyncs to the thread pool while the event loop is busy, and runs them inline again once it is not",
    withFile(async (path) => {
      const { state, ops } = fakeOps();
      const file = new KeptOpenFile(ops);
      await file.sync(path);
      state.busy = true;
      await file.sync(path);
      await file.sync(path);
      expect(file.fsyncs).toEqual({ inline: 1, pooled: 2 });
      state.busy = false;
      await file.sync(path);
      expect(file.fsyncs).toEqual({ inline: 2, pooled: 2 });
      file.close();
    }),
  );

  it(
    "rejects when the fsync fails, inline or on the pool",
    withFile(async (path) => {
      const { state, ops } = fakeOps();
      const failing: FsyncOps = {
        ...ops,
        inline: (fd) => {
          ops.inline(fd);
          throw new Error("EIO inline");
        },
      };
      const file = new KeptOpenFile(failing);
      state.inlineMs = INLINE_FSYNC_STALL_MS + 1;
      await expect(file.sync(path)).rejects.toThrow("EIO inline");
      state.pooledError = new Error("EIO pooled");
      await expect(file.sync(path)).rejects.toThrow("EIO pooled");
      expect(file.fsyncs).toEqual({ inline: 1, pooled: 1 });
      file.close();
    }),
  );
});

/** What this process's open descriptors on `path` point to (a removed file shows as "path (deleted)"). */
function descriptorsOf(path: string): string[] {
  const targets: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(path)) targets.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return targets;
}

describe("eventLoopBusy", () => {
  /** Keeps this thread's event loop busy (no waiting for events) for `ms`. */
  function spin(ms: number): void {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // busy
    }
  }

  it("says busy after a window the loop spent working, and idle after one it spent waiting", async () => {
    const busy = eventLoopBusy();
    expect(busy()).toBe(false);
    // Waiting for a timer: the loop is idle for most of the window.
    await new Promise((resolve) => setTimeout(resolve, 3 * BUSY_LOOP_WINDOW_MS));
    expect(busy()).toBe(false);
    // Working without yielding: every millisecond of the window is active.
    spin(2 * BUSY_LOOP_WINDOW_MS);
    await new Promise((resolve) => setImmediate(resolve));
    spin(2 * BUSY_LOOP_WINDOW_MS);
    expect(BUSY_LOOP_UTILIZATION).toBeLessThan(1);
    expect(busy()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5 * BUSY_LOOP_WINDOW_MS));
    expect(busy()).toBe(false);
  });
});

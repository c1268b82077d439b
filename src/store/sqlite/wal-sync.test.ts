import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KeptOpenFile, WalSync } from "./wal-sync.js";

/** A file sync whose rounds the test finishes by hand. */
function manualSync() {
  const rounds: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const syncFile = (_path: string) =>
    new Promise<void>((resolve, reject) => {
      rounds.push({ resolve, reject });
    });
  return { rounds, syncFile };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("WalSync", () => {
  it("starts one fsync for a write when none is in flight", async () => {
    const { rounds, syncFile } = manualSync();
    const wal = new WalSync("/x-wal", syncFile);
    let done = false;
    const synced = wal.sync().then(() => {
      done = true;
    });
    expect(rounds).toHaveLength(1);
    await tick();
    expect(done).toBe(false);
    rounds[0]?.resolve();
    await synced;
    expect(done).toBe(true);
    expect(wal.fsyncs).toBe(1);
  });

  it("makes writes that arrive during an fsync wait for the next one, and share it", async () => {
    const { rounds, syncFile } = manualSync();
    const wal = new WalSync("/x-wal", syncFile);
    const first = wal.sync();
    const settled: string[] = [];
    const second = wal.sync().then(() => settled.push("second"));
    const third = wal.sync().then(() => settled.push("third"));
    expect(rounds).toHaveLength(1);
    rounds[0]?.resolve();
    await first;
    await tick();
    // The first round may have started before the later writes: they are not durable yet.
    expect(settled).toEqual([]);
    expect(rounds).toHaveLength(2);
    rounds[1]?.resolve();
    await Promise.all([second, third]);
    expect(settled).toEqual(["second", "third"]);
    expect(wal.fsyncs).toBe(2);
  });

  it("is poisoned by a failed fsync: that write and every later one reject", async () => {
    const { rounds, syncFile } = manualSync();
    const wal = new WalSync("/x-wal", syncFile);
    const first = wal.sync();
    const queued = wal.sync();
    rounds[0]?.reject(new Error("EIO"));
    await expect(first).rejects.toThrow("EIO");
    await expect(queued).rejects.toThrow("EIO");
    await expect(wal.sync()).rejects.toThrow("EIO");
    expect(rounds).toHaveLength(1);
    expect(wal.failed?.message).toBe("EIO");
  });

  it("fsyncs a real file, and fails for a missing one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wal-sync-"));
    try {
      const path = join(dir, "db-wal");
      writeFileSync(path, "frames");
      const file = new KeptOpenFile();
      await expect(file.sync(path)).resolves.toBeUndefined();
      file.close();
      await expect(new WalSync(join(dir, "missing-wal")).sync()).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps the file open between fsyncs, and reopens a path that was replaced or fails when it is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wal-sync-"));
    const file = new KeptOpenFile();
    try {
      const path = join(dir, "db-wal");
      writeFileSync(path, "frames");
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
      rmSync(dir, { recursive: true, force: true });
    }
  });
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

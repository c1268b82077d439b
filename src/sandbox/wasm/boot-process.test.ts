import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  bootProcessArgs,
  limitBootProcesses,
  prestartBootProcess,
  runBootProcess,
  SHARE_MIN_BYTES,
  STALE_SPILL_MS,
  shareLargeBytes,
  stopIdleBootChild,
  sweepStaleSpillDirs,
} from "./boot-process.js";

/** Whether process `pid` exists (a killed child is reaped by this process, so it disappears). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const FIXTURE = new URL("./boot-process.fixture.ts", import.meta.url).href;

/** Every directory this file's tests make is made in here, removed once they ran. */
const root = mkdtempSync(join(tmpdir(), "boot-process-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A boot child started as runBootProcess starts one, a fresh spill path for it, and its exit. */
function bootChild(prefix: string) {
  const dir = mkdtempSync(join(root, prefix));
  const child = spawn(process.execPath, bootProcessArgs(), {
    env: {},
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "advanced",
  });
  const exited = new Promise<unknown>((resolve) => child.once("exit", resolve));
  return { dir, spillFile: join(dir, "reply.bin"), child, exited };
}

describe("runBootProcess", () => {
  it("runs the named export in a Liftoff-only child process and returns its structured-cloned result", async () => {
    const result = await runBootProcess<{ label: string; bytes: Uint8Array; liftoffOnly: boolean }>({
      module: FIXTURE,
      export: "describeBoot",
      args: ["hello"],
    });
    expect(result.label).toBe("hello");
    expect(result.bytes).toBeInstanceOf(Uint8Array);
    expect([...result.bytes]).toEqual([1, 2, 3]);
    expect(result.liftoffOnly).toBe(true);
  }, 30_000);

  it("hands a prestarted boot to the next run of the same entry, once", async () => {
    const marks = join(mkdtempSync(join(root, "prestart-")), "marks");
    const entry = { module: FIXTURE, export: "markBoot", args: [marks] };
    prestartBootProcess(entry);
    // Until the prestarted boot ran (it appends its time to the file).
    for (let waited = 0; !existsSync(marks) && waited < 20_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const asked = Date.now();
    const taken = await runBootProcess<number>(entry);
    expect(taken).toBeLessThan(asked);
    expect(readFileSync(marks, "utf8").trim().split("\n")).toEqual([String(taken)]);
    // Taken once: the next run boots again.
    const fresh = await runBootProcess<number>(entry);
    expect(fresh).toBeGreaterThanOrEqual(asked);
    expect(readFileSync(marks, "utf8").trim().split("\n")).toEqual([String(taken), String(fresh)]);
  }, 60_000);

  it("runs the next boot in the child that finished the last one, and never two boots in one child at once", async () => {
    const pidBoot = { module: FIXTURE, export: "bootPid" };
    const first = await runBootProcess<{ pid: number; liftoffOnly: boolean }>(pidBoot);
    const second = await runBootProcess<{ pid: number; liftoffOnly: boolean }>(pidBoot);
    expect(second).toEqual({ pid: first.pid, liftoffOnly: true });
    const [a, b] = await Promise.all([
      runBootProcess<{ pid: number }>(pidBoot),
      runBootProcess<{ pid: number }>(pidBoot),
    ]);
    expect(a.pid).not.toBe(b.pid);
    expect([a.pid, b.pid]).toContain(first.pid);
    stopIdleBootChild();
  }, 60_000);

  it("does not keep a child whose boot failed, and stops a kept child on request", async () => {
    const pidBoot = { module: FIXTURE, export: "bootPid" };
    const kept = await runBootProcess<{ pid: number }>(pidBoot);
    // The kept child runs this boot and dies in it; the next boot gets a new child.
    await expect(runBootProcess({ module: FIXTURE, export: "exitBoot" })).rejects.toThrow(/exited \(code 3\)/);
    const next = await runBootProcess<{ pid: number }>(pidBoot);
    expect(next.pid).not.toBe(kept.pid);
    expect(alive(next.pid)).toBe(true);
    stopIdleBootChild();
    for (let waited = 0; alive(next.pid) && waited < 5_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(alive(next.pid)).toBe(false);
  }, 60_000);

  it("hands large arrays over through a private file, read into shared memory, and removes the file", async () => {
    const length = 3 * 1024 * 1024 + 5;
    const previous = process.env.TMPDIR;
    const tmp = mkdtempSync(join(root, "spill-parent-"));
    process.env.TMPDIR = tmp;
    let result: { bytes: Uint8Array; words: Float64Array; length: number };
    try {
      result = await runBootProcess({ module: FIXTURE, export: "bigBoot", args: [length] });
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      stopIdleBootChild();
    }
    expect(result.length).toBe(length);
    expect(result.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(result.bytes.byteLength).toBe(length);
    let mismatches = 0;
    for (let i = 0; i < length; i++) if (result.bytes[i] !== ((i * 7 + 3) & 0xff)) mismatches++;
    expect(mismatches).toBe(0);
    expect([...result.words]).toEqual([1.5, -2]);
    // The boot's directory was made under TMPDIR and is gone once the reply was read.
    expect(readdirSync(tmp)).toEqual([]);
  }, 30_000);

  it("runs at most the limited number of boots at once, the next in the child that just finished", async () => {
    limitBootProcesses(1);
    try {
      const span = { module: FIXTURE, export: "spanBoot", args: [300] };
      const [first, second] = await Promise.all([
        runBootProcess<{ start: number; end: number; pid: number }>(span),
        runBootProcess<{ start: number; end: number; pid: number }>(span),
      ]);
      const [earlier, later] = first.start <= second.start ? [first, second] : [second, first];
      expect(later.start).toBeGreaterThanOrEqual(earlier.end);
      expect(later.pid).toBe(earlier.pid);
      // A failed boot frees its place too.
      await expect(runBootProcess({ module: FIXTURE, export: "failBoot" })).rejects.toThrow(/on purpose/);
      await expect(runBootProcess<{ pid: number }>({ module: FIXTURE, export: "bootPid" })).resolves.toMatchObject({
        liftoffOnly: true,
      });
    } finally {
      limitBootProcesses(Number.POSITIVE_INFINITY);
      stopIdleBootChild();
    }
  }, 60_000);

  it("a boot child removes the reply it wrote when its parent goes away unread, or on SIGTERM", async () => {
    for (const end of ["disconnect", "SIGTERM"] as const) {
      const { dir, spillFile, child, exited } = bootChild("spill-child-");
      const replied = new Promise<unknown>((resolve) => child.once("message", resolve));
      child.send({ module: FIXTURE, export: "bigBoot", args: [SHARE_MIN_BYTES * 2], argv: process.argv, spillFile });
      await replied;
      // The reply names the file; nobody reads it.
      expect(existsSync(spillFile)).toBe(true);
      if (end === "disconnect") child.disconnect();
      else child.kill("SIGTERM");
      await exited;
      expect(existsSync(dir)).toBe(false);
    }
  }, 30_000);

  it("a boot child whose parent went away during a busy boot writes no reply to keep", async () => {
    const { dir, spillFile, child, exited } = bootChild("spill-busy-");
    const signals = mkdtempSync(join(root, "spill-busy-signals-"));
    const started = join(signals, "started");
    const release = join(signals, "release");
    child.send({
      module: FIXTURE,
      export: "busyBigBoot",
      args: [started, release, SHARE_MIN_BYTES * 2],
      argv: process.argv,
      spillFile,
    });
    // Gone while the child is busy (the boot started, so the child knows the spill file): it learns
    // only once the boot returned and it wrote the reply. Waiting for the start, not a fixed time:
    // a child slow to start (a loaded machine) would otherwise get the disconnect before the request.
    try {
      for (let waited = 0; !existsSync(started) && waited < 20_000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(existsSync(started)).toBe(true);
      child.disconnect();
    } finally {
      // Never leave the child spinning, whatever happened above.
      writeFileSync(release, "");
    }
    await exited;
    rmSync(signals, { recursive: true, force: true });
    expect(existsSync(dir)).toBe(false);
  }, 30_000);

  it("sweeps only stale spill directories of servers that no longer run", async () => {
    const tmp = mkdtempSync(join(root, "spill-sweep-"));
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const old = (Date.now() - STALE_SPILL_MS - 60_000) / 1000;
    const make = (name: string, stale: boolean, file = false) => {
      const path = join(tmp, name);
      if (file) writeFileSync(path, "x");
      else {
        mkdirSync(path);
        writeFileSync(join(path, "reply.bin"), "bytes");
      }
      if (stale) utimesSync(path, old, old);
    };
    make(`inline-sandbox-boot-${dead}-left`, true);
    make(`inline-sandbox-boot-${dead}-recent`, false);
    make(`inline-sandbox-boot-${process.pid}-mine`, true);
    make(`inline-sandbox-boot-${dead}-afile`, true, true);
    make("inline-sandbox-boot-nopid", true);
    make("unrelated", true);
    expect(await sweepStaleSpillDirs(tmp)).toBe(1);
    expect(readdirSync(tmp).sort()).toEqual(
      [
        `inline-sandbox-boot-${dead}-afile`,
        `inline-sandbox-boot-${dead}-recent`,
        `inline-sandbox-boot-${process.pid}-mine`,
        "inline-sandbox-boot-nopid",
        "unrelated",
      ].sort(),
    );
  });

  it("rejects with the boot's own reason", async () => {
    await expect(runBootProcess({ module: FIXTURE, export: "failBoot" })).rejects.toThrow("the boot failed on purpose");
  }, 30_000);

  it("rejects when the export does not exist", async () => {
    await expect(runBootProcess({ module: FIXTURE, export: "nothing" })).rejects.toThrow(/exports no function nothing/);
  }, 30_000);

  it("rejects when the boot takes longer than its timeout", async () => {
    const started = performance.now();
    await expect(
      runBootProcess({ module: FIXTURE, export: "describeBoot", args: ["x"] }, { timeoutMs: 1 }),
    ).rejects.toThrow(/did not finish within 1 ms/);
    expect(performance.now() - started).toBeLessThan(5_000);
  }, 30_000);

  it("moves large byte arrays of the reply into shared memory, so workers share one copy", () => {
    const message = new Uint8Array(SHARE_MIN_BYTES * 3);
    message.fill(7);
    const big = message.subarray(SHARE_MIN_BYTES, SHARE_MIN_BYTES * 2);
    const small = new Uint8Array([1, 2, 3]);
    const out = shareLargeBytes({ snapshot: { data: big, pages: 2 }, list: [big], small }) as {
      snapshot: { data: Uint8Array; pages: number };
      list: Uint8Array[];
      small: Uint8Array;
    };
    expect(out.snapshot.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(out.snapshot.data.buffer.byteLength).toBe(SHARE_MIN_BYTES);
    expect(out.snapshot.data).toEqual(big);
    expect(out.snapshot.pages).toBe(2);
    expect(out.list[0]?.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(out.small).toBe(small);
  });

  it("copies small views into a larger buffer into their own, so a worker is not sent the whole buffer", () => {
    const message = new ArrayBuffer(SHARE_MIN_BYTES * 2);
    const bytes = new Uint8Array(message, 8, 4);
    bytes.set([1, 2, 3, 4]);
    const indexes = new Uint32Array(message, 16, 2);
    indexes.set([7, 9]);
    const out = shareLargeBytes({ bytes, indexes }) as { bytes: Uint8Array; indexes: Uint32Array };
    expect(out.bytes.buffer.byteLength).toBe(4);
    expect([...out.bytes]).toEqual([1, 2, 3, 4]);
    expect(out.indexes).toBeInstanceOf(Uint32Array);
    expect(out.indexes.buffer.byteLength).toBe(8);
    expect([...out.indexes]).toEqual([7, 9]);
    const shared = new Uint8Array(new SharedArrayBuffer(SHARE_MIN_BYTES * 2), 10, 5);
    expect((shareLargeBytes({ shared }) as { shared: Uint8Array }).shared).toBe(shared);
  });
});

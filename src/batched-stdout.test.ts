import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { BatchedDestination } from "./batched-stdout.js";

const opened: Array<{ dir: string; read: number; write: number }> = [];

/**
 * A FIFO opened at both ends (closed and removed after the test): the destination writes to
 * `write`; closing `read` makes writes fail with EPIPE.
 */
function fifo() {
  const dir = mkdtempSync(join(tmpdir(), "batched-"));
  const path = join(dir, "fifo");
  execFileSync("mkfifo", [path]);
  const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const write = openSync(path, constants.O_WRONLY);
  const f = { dir, read, write };
  opened.push(f);
  return f;
}

afterEach(() => {
  for (const f of opened.splice(0)) {
    for (const fd of [f.read, f.write]) {
      try {
        closeSync(fd);
      } catch {}
    }
    rmSync(f.dir, { recursive: true, force: true });
  }
});

/** Reads what is there to read on the FIFO's read end ("" when nothing). */
function reader(fd: number): () => string {
  const buffer = Buffer.alloc(64);
  return () => {
    try {
      return buffer.subarray(0, readSync(fd, buffer)).toString();
    } catch {
      return "";
    }
  };
}

/** Polls `read` every 5 ms until it returns something, for at most `ms`. */
async function readWithin(read: () => string, ms: number): Promise<string> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    const text = read();
    if (text !== "") return text;
    await sleep(5);
  }
  return "";
}

describe("BatchedDestination", () => {
  it("holds lines until the batch is full or flushed, then writes them in one piece", () => {
    const f = fifo();
    const destination = new BatchedDestination({ fd: f.write, minBytes: 1024, flushMs: 60_000, promptMs: 20 });
    destination.write("one\n");
    destination.write("two\n");
    const buffer = Buffer.alloc(64);
    expect(() => readSync(f.read, buffer)).toThrow(/EAGAIN/);
    destination.flushSync();
    expect(buffer.subarray(0, readSync(f.read, buffer)).toString()).toBe("one\ntwo\n");
  });

  it("writes a line that comes after a quiet spell promptMs later, and batches the ones right after it", async () => {
    const f = fifo();
    const destination = new BatchedDestination({ fd: f.write, minBytes: 1024, flushMs: 60_000, promptMs: 200 });
    const read = reader(f.read);
    destination.write("first\n");
    // Not at once, nor on the next turn: that is where the fsync and the reply of the execution
    // that logged it run.
    await sleep(50);
    expect(read()).toBe("");
    expect(await readWithin(read, 2_000)).toBe("first\n");
    destination.write("second\n");
    await sleep(300);
    expect(read()).toBe("");
    destination.flushSync();
    expect(read()).toBe("second\n");
  });

  it("writes a full batch promptMs later, not inside the call that filled it", async () => {
    const f = fifo();
    const destination = new BatchedDestination({ fd: f.write, minBytes: 16, flushMs: 60_000, promptMs: 200 });
    const read = reader(f.read);
    destination.write("x\n");
    expect(await readWithin(read, 2_000)).toBe("x\n");
    destination.write("0123456789\n");
    await sleep(300);
    expect(read()).toBe("");
    destination.write("abcdefghij\n");
    await sleep(50);
    expect(read()).toBe("");
    expect(await readWithin(read, 2_000)).toBe("0123456789\nabcdefghij\n");
  });

  it("gives up at the first write error instead of retrying forever (sonic-boom 4.2's flushSync loops on EPIPE)", () => {
    const f = fifo();
    const destination = new BatchedDestination({ fd: f.write, minBytes: 1024, flushMs: 60_000, promptMs: 20 });
    destination.write("pending line\n");
    closeSync(f.read);
    f.read = -1;
    const started = Date.now();
    destination.flushSync();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(destination.isBroken).toBe(true);
    destination.write("dropped\n");
    destination.flushSync();
    expect(destination.isBroken).toBe(true);
  });
});

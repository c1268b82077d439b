import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runSupervised, type SupervisedCommand } from "./run-process.js";

const limits = { timeoutMs: 5_000, killGraceMs: 100, maxOutputBytes: 1024 * 1024 };

function sh(script: string, extra: Partial<SupervisedCommand> = {}): SupervisedCommand {
  return {
    command: "/bin/sh",
    args: ["-c", script],
    env: { PATH: "/usr/bin:/bin" },
    cwd: "/",
    stdin: "",
    rootIsGuest: true,
    ...extra,
  };
}

/** Host pids whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("runSupervised", () => {
  it("feeds stdin, collects stdout/stderr and the exit status", async () => {
    const r = await runSupervised(sh("cat; echo err >&2; exit 3", { stdin: "hello" }), limits);
    expect(r.stdout.toString()).toBe("hello");
    expect(r.stderr.toString()).toBe("err\n");
    expect(r.exitCode).toBe(3);
    expect(r.stoppedBy).toBeNull();
  });

  it("writes fd3 data to the child", async () => {
    const r = await runSupervised(sh("cat <&3", { fd3: Buffer.from("args\0") }), limits);
    expect(r.stdout.toString()).toBe("args\0");
  });

  it("caps output at exactly maxOutputBytes and kills the process", async () => {
    const r = await runSupervised(sh("cat /dev/zero"), { ...limits, maxOutputBytes: 100_000 });
    expect(r.stoppedBy).toBe("OUTPUT_LIMIT");
    expect(r.stdout.length).toBe(100_000);
    expect(r.truncated).toEqual({ stdout: true, stderr: false });
    expect(r.exitCode).toBeNull();
  });

  it("does not flag output of exactly maxOutputBytes", async () => {
    const r = await runSupervised(sh("head -c 1000 /dev/zero"), { ...limits, maxOutputBytes: 1000 });
    expect(r.stoppedBy).toBeNull();
    expect(r.stdout.length).toBe(1000);
    expect(r.truncated.stdout).toBe(false);
  });

  it("kills the whole process group at the deadline, grandchildren included", async () => {
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}.25`;
    const started = Date.now();
    const r = await runSupervised(sh(`sh -c 'sleep ${marker} & sleep ${marker}' & sleep ${marker}`), {
      ...limits,
      timeoutMs: 300,
    });
    expect(r.stoppedBy).toBe("TIMEOUT");
    expect(r.exitCode).toBeNull();
    expect(Date.now() - started).toBeLessThan(3_000);
    await new Promise((res) => setTimeout(res, 50));
    expect(processesWith(marker)).toEqual([]);
  });

  it("gives a SIGTERM handler its grace period", async () => {
    const r = await runSupervised(sh("trap 'echo term; exit 0' TERM; while :; do sleep 0.05; done"), {
      ...limits,
      timeoutMs: 200,
      killGraceMs: 2_000,
    });
    expect(r.stoppedBy).toBe("TIMEOUT");
    expect(r.stdout.toString()).toBe("term\n");
  });

  it("stops on abort, and does not start when already aborted", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const r = await runSupervised(sh("sleep 10"), limits, { signal: controller.signal });
    expect(r.stoppedBy).toBe("CANCELLED");
    const r2 = await runSupervised(sh("echo ran"), limits, { signal: AbortSignal.abort() });
    expect(r2.stoppedBy).toBe("CANCELLED");
    expect(r2.stdout.toString()).toBe("");
  });

  it("stops when the watch says so", async () => {
    let checks = 0;
    const r = await runSupervised(sh("sleep 10"), limits, {
      watch: { intervalMs: 20, check: async () => (++checks >= 3 ? "FILESYSTEM_LIMIT" : null) },
    });
    expect(r.stoppedBy).toBe("FILESYSTEM_LIMIT");
    expect(checks).toBe(3);
  });

  it("rejects when the command cannot be spawned", async () => {
    await expect(runSupervised({ ...sh(""), command: "/nonexistent/binary" }, limits)).rejects.toThrow();
  });
});

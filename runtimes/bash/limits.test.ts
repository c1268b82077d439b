/**
 * Host-enforced limits on the bash WasmRuntime: every runaway ends with a stable outcome code, the
 * runner stays usable afterwards, and nothing is left running.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_NETWORK_REPLY } from "../../src/sandbox/host-call.js";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import { CappedSink, createHarness, type Harness } from "./runner-harness.js";

const MiB = 1024 * 1024;

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness();
});

afterAll(async () => {
  await harness?.close();
});

/** The runner must still run ordinary scripts after a limit hit. */
async function stillWorks(): Promise<void> {
  const r = await harness.run("echo ok");
  expect(r.stdout).toBe("ok\n");
  expect(r.outcome.error).toBeUndefined();
}

describe("deadline", () => {
  it("stops `while true` at the deadline", async () => {
    const r = await harness.run("while true; do :; done", { limits: { timeoutMs: 500 } });
    expect(r.outcome.error?.code).toBe("TIMEOUT");
    expect(r.outcome.exitCode).toBeNull();
    expect(r.durationMs).toBeLessThan(2_000);
    await stillWorks();
  });

  it("stops an awk infinite loop (one long synchronous job) at the deadline", async () => {
    const r = await harness.run("awk 'BEGIN { while (1) { x++ } }'", { limits: { timeoutMs: 500 } });
    expect(r.outcome.error?.code).toBe("TIMEOUT");
    expect(r.durationMs).toBeLessThan(2_000);
    await stillWorks();
  });

  it("does not wait out a long sleep past the deadline", async () => {
    const r = await harness.run("sleep 100; echo late", { limits: { timeoutMs: 400 } });
    expect(r.outcome.error?.code).toBe("TIMEOUT");
    expect(r.stdout).toBe("");
    expect(r.durationMs).toBeLessThan(1_500);
  });

  it("stops when the host cancels the execution", async () => {
    const r = await harness.run("while true; do :; done", { limits: { timeoutMs: 10_000 }, cancelAfterMs: 200 });
    expect(r.outcome.error?.code).toBe("TIMEOUT");
    expect(r.outcome.error?.message).toMatch(/cancelled/);
    expect(r.durationMs).toBeLessThan(2_000);
    await stillWorks();
  });
});

describe("memory", () => {
  it("ends string doubling with MEMORY_LIMIT", async () => {
    const r = await harness.run('s=x\nwhile true; do s="$s$s"; done', { limits: { memoryLimitBytes: 64 * MiB } });
    expect(r.outcome.error?.code).toBe("MEMORY_LIMIT");
    await stillWorks();
  });

  it("ends with MEMORY_LIMIT when QuickJS itself runs out of linear memory", async () => {
    // 1 MiB strings stay below just-bash's string limit (2 MiB at 32 MiB); twenty distinct copies do not fit.
    const copies = Array.from({ length: 20 }, (_, i) => `a${i}="$s${".".repeat(i + 1)}"`).join("; ");
    const r = await harness.run(`s=x; for i in $(seq 20); do s="$s$s"; done; ${copies}; echo survived`, {
      limits: { memoryLimitBytes: 32 * MiB },
    });
    expect(r.outcome.error?.code).toBe("MEMORY_LIMIT");
    expect(r.stdout).not.toContain("survived");
    await stillWorks();
  });

  it("refuses a memory limit below the runtime's baseline without running anything", async () => {
    const r = await harness.run("echo should-not-run", { limits: { memoryLimitBytes: 4 * MiB } });
    expect(r.outcome.error?.code).toBe("MEMORY_LIMIT");
    expect(r.stdout).toBe("");
  });
});

describe("output", () => {
  it("ends a stdout flood with OUTPUT_LIMIT and exactly the cap in bytes", async () => {
    const r = await harness.run("while true; do echo floodfloodfloodfloodfloodflood; done", {
      limits: { maxOutputBytes: 4096 },
    });
    expect(r.outcome.error?.code).toBe("OUTPUT_LIMIT");
    expect(r.truncated.stdout).toBe(true);
    expect(Buffer.byteLength(r.stdout)).toBe(4096);
    await stillWorks();
  });

  it("ends a stderr flood with OUTPUT_LIMIT", async () => {
    const r = await harness.run(
      's=x; for i in 1 2 3 4 5 6 7 8 9 10; do s=$s$s; done; while true; do echo "$s" >&2; done',
      {
        limits: { maxOutputBytes: 8192 },
      },
    );
    expect(r.outcome.error?.code).toBe("OUTPUT_LIMIT");
    expect(r.truncated.stderr).toBe(true);
  });
});

describe("filesystem", () => {
  it("ends writes past the filesystem quota with FILESYSTEM_LIMIT", async () => {
    const big = { path: "big.bin", content: new Uint8Array(MiB).fill(7) };
    const r = await harness.run("for i in 1 2 3 4 5 6 7 8; do cp big.bin copy$i.bin; done; echo wrote", {
      request: { files: [big] },
      limits: { maxFilesystemBytes: 4 * MiB },
    });
    expect(r.outcome.error?.code).toBe("FILESYSTEM_LIMIT");
    // As in bash, a failed cp does not end the script; the quota held: 4 MiB of copies at most.
    expect(r.stdout).toBe("wrote\n");
    expect(r.stderr).toMatch(/ENOSPC/);
    const copies = r.outcome.files.filter((f) => f.path.startsWith("copy"));
    expect(copies.length).toBe(4);
    await stillWorks();
  });
});

describe("runaway shapes are contained", () => {
  it("huge brace expansion", async () => {
    const r = await harness.run("echo {1..1000}{1..1000}{1..1000} | wc -c");
    expect(r.outcome.error).toBeDefined();
    expect(r.outcome.exitCode).not.toBe(0);
    expect(r.durationMs).toBeLessThan(10_000);
    await stillWorks();
  });

  it("fork bomb :(){ :|:& };:", async () => {
    const r = await harness.run(":(){ :|:& };:", { limits: { timeoutMs: 5_000 } });
    expect(r.outcome.error).toBeDefined();
    expect(r.durationMs).toBeLessThan(6_000);
    await stillWorks();
  });

  it("unbounded recursion", async () => {
    const r = await harness.run("f() { f; }; f");
    expect(r.outcome.exitCode).toBe(126);
    expect(r.stderr).toMatch(/recursion depth/);
    await stillWorks();
  });

  it("deeply nested command substitution", async () => {
    const nested = `${"$(echo ".repeat(200)}x${")".repeat(200)}`;
    const r = await harness.run(`echo ${nested}`);
    expect(r.outcome.error).toBeDefined();
    await stillWorks();
  });
});

describe("host faults", () => {
  const context = (cancelled: () => boolean) => ({
    limits: { ...DEFAULT_LIMITS },
    deadline: Date.now() + 10_000,
    stdout: new CappedSink(DEFAULT_LIMITS.maxOutputBytes),
    stderr: new CappedSink(DEFAULT_LIMITS.maxOutputBytes),
    cancelled,
    http: () => NO_NETWORK_REPLY,
  });
  const request = {
    language: "bash" as const,
    code: "while true; do :; done",
    stdin: "",
    args: [],
    env: {},
    files: [],
  };

  it("discards an instance a host error unwound through, and rebuilds it for the next run", async () => {
    const before = (await harness.runner.stats()).instancesCreated;
    let calls = 0;
    const failing = context(() => {
      calls++;
      if (calls > 3) throw new Error("host failure inside the interrupt handler");
      return false;
    });
    await expect(harness.runner.run(request, failing)).rejects.toThrow(/host failure/);
    await stillWorks();
    expect((await harness.runner.stats()).instancesCreated).toBe(before + 1);
  });

  it("reports a host stack overflow inside QuickJS as MEMORY_LIMIT and rebuilds", async () => {
    const before = (await harness.runner.stats()).instancesCreated;
    let calls = 0;
    const overflowing = context(() => {
      calls++;
      if (calls > 3) throw new RangeError("Maximum call stack size exceeded");
      return false;
    });
    const outcome = await harness.runner.run(request, overflowing);
    expect(outcome.error?.code).toBe("MEMORY_LIMIT");
    expect(outcome.exitCode).toBeNull();
    await stillWorks();
    expect((await harness.runner.stats()).instancesCreated).toBe(before + 1);
  });
});

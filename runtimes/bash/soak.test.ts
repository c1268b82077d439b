/**
 * A 100-execution soak on one runner: ordinary runs interleaved with interrupts, limit hits and
 * leak attempts. Every ordinary run must give its exact output, every leak check must come back
 * clean, and the instance must neither grow without bound nor be rebuilt more than the limit hits
 * explain.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./runner-harness.js";

const MiB = 1024 * 1024;

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness();
});

afterAll(async () => {
  await harness?.close();
});

describe("soak", () => {
  it("stays correct and fresh over 100 mixed executions", async () => {
    const randoms = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const kind = i % 10;
      if (kind === 0) {
        const r = await harness.run(`export SOAK=${i}; echo x > soak.txt; while true; do :; done`, {
          limits: { timeoutMs: 150 },
        });
        expect(r.outcome.error?.code, `run ${i}`).toBe("TIMEOUT");
      } else if (kind === 1) {
        const r = await harness.run('s=x; while true; do s="$s$s"; done', { limits: { memoryLimitBytes: 64 * MiB } });
        expect(r.outcome.error?.code, `run ${i}`).toBe("MEMORY_LIMIT");
      } else if (kind === 2) {
        const r = await harness.run(
          's=x; for n in 1 2 3 4 5 6 7 8 9 10; do s=$s$s; done; while true; do echo "$s"; done',
          {
            limits: { maxOutputBytes: 1024 },
          },
        );
        expect(r.outcome.error?.code, `run ${i}`).toBe("OUTPUT_LIMIT");
        expect(r.stdout.length, `run ${i}`).toBe(1024);
      } else if (kind === 3) {
        const r = await harness.run('[ -z "${SOAK+x}" ] && [ ! -e soak.txt ] && echo clean');
        expect(r.stdout, `run ${i}`).toBe("clean\n");
      } else {
        const input = `input ${i}\n`.repeat(i);
        const r = await harness.run('echo "$1 $GREETING"; wc -l < input.txt; echo $RANDOM$RANDOM', {
          request: {
            args: [String(i)],
            env: { GREETING: `hello-${i}` },
            files: [{ path: "input.txt", content: new TextEncoder().encode(input) }],
          },
        });
        const [first, second, random] = r.stdout.split("\n");
        expect(first, `run ${i}`).toBe(`${i} hello-${i}`);
        expect(second?.trim(), `run ${i}`).toBe(String(i));
        randoms.add(random ?? "");
        expect(r.outcome.error, `run ${i}`).toBeUndefined();
      }
    }
    expect(randoms.size).toBe(60);
    const stats = await harness.runner.stats();
    // Limit hits never trap: the one instance is restored every time, never rebuilt.
    expect(stats.instancesCreated).toBe(1);
    expect(stats.memoryBytes).toBeLessThanOrEqual(128 * MiB);
  });
});

describe("recycling", () => {
  it("replaces an instance whose memory grew past the threshold, and the next run is correct", async () => {
    const small = await createHarness({ recycleAboveBytes: 24 * MiB });
    try {
      const before = await small.runner.stats();
      expect(before.instancesCreated).toBe(1);
      const grow = await small.run('s=x; for i in $(seq 22); do s="$s$s"; done; a="$s."; b="$s.."; echo ${#a}');
      expect(grow.stdout).toBe("4194305\n");
      const after = await small.runner.stats();
      expect(after.instancesCreated).toBe(2);
      expect(after.memoryBytes).toBe(after.snapshotBytes);
      expect((await small.run("echo fresh")).stdout).toBe("fresh\n");
    } finally {
      await small.close();
    }
  });

  it("replaces an instance grown past the next request's memory limit before running it", async () => {
    const before = (await harness.runner.stats()).instancesCreated;
    // Measured: three 2 MiB strings grow the instance to ~90 MiB (below the 128 MiB recycle threshold).
    const grow = await harness.run(
      's=x; for i in $(seq 21); do s="$s$s"; done; a="$s."; b="$s.."; c="$s..."; echo ${#c}',
    );
    expect(grow.stdout).toBe("2097155\n");
    const grown = await harness.runner.stats();
    expect(grown.memoryBytes).toBeGreaterThan(grown.snapshotBytes);
    const r = await harness.run("echo small", { limits: { memoryLimitBytes: grown.snapshotBytes + 1 * MiB } });
    expect(r.stdout).toBe("small\n");
    expect((await harness.runner.stats()).instancesCreated).toBe(before + 1);
  });
});

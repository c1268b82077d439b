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
    // Only the 10 memory-limit hits grow the memory; each such instance is replaced by a clone.
    expect(stats.instancesCreated).toBeGreaterThan(1);
    expect(stats.instancesCreated).toBeLessThanOrEqual(11);
    expect(stats.memoryBytes).toBe(stats.snapshotBytes);
  });
});

describe("recycling", () => {
  it("replaces an instance whose memory grew with a clone on a new memory, and the next run is correct", async () => {
    const before = await harness.runner.stats();
    const grow = await harness.run('s=x; for i in $(seq 22); do s="$s$s"; done; a="$s."; b="$s.."; echo ${#a}');
    expect(grow.stdout).toBe("4194305\n");
    const fresh = await harness.run('echo "${a:-fresh}" $RANDOM');
    expect(fresh.stdout).toMatch(/^fresh \d+\n$/);
    const after = await harness.runner.stats();
    expect(after.instancesCreated).toBe(before.instancesCreated + 1);
    expect(after.cloned).toBe(true);
    expect(after.memoryBytes).toBe(after.snapshotBytes);
    // The clone runs everything the evaluated instance ran.
    const pipe = await harness.run("printf 'b\\na\\n' | sort | tr a-z A-Z");
    expect(pipe.stdout).toBe("A\nB\n");
  });

  it("never hands a grown instance to the next request, even one with a small memory limit", async () => {
    const before = (await harness.runner.stats()).instancesCreated;
    // Measured: three 2 MiB strings grow the instance to ~90 MiB.
    const grow = await harness.run(
      's=x; for i in $(seq 21); do s="$s$s"; done; a="$s."; b="$s.."; c="$s..."; echo ${#c}',
    );
    expect(grow.stdout).toBe("2097155\n");
    const { snapshotBytes } = await harness.runner.stats();
    const r = await harness.run("echo small", { limits: { memoryLimitBytes: snapshotBytes + 1 * MiB } });
    expect(r.stdout).toBe("small\n");
    const after = await harness.runner.stats();
    expect(after.instancesCreated).toBe(before + 1);
    expect(after.memoryBytes).toBe(after.snapshotBytes);
  });
});

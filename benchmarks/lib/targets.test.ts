import { describe, expect, it } from "vitest";
import type { BenchResults } from "./results.js";
import { atLeast, atMost, checkTargets, MS, PER_S } from "./targets.js";

const machine = {
  node: "v20",
  platform: "linux",
  kernel: "6",
  cpuModel: "cpu",
  cores: 2,
  memoryBytes: 1,
  loadAverageStart: [0, 0, 0],
};

const latency = (p50Ms: number) => ({
  n: 100,
  p50Ms,
  p99Ms: p50Ms * 2,
  meanMs: p50Ms,
  minMs: 1,
  maxMs: 9,
  failures: 0,
});

describe("atMost / atLeast", () => {
  it("says met when the goal holds", () => {
    expect(atMost("x", "d", 3, MS, { value: 2.5 })).toMatchObject({ met: true, verdict: "met", goal: "<= 3.00 ms" });
    expect(atLeast("y", "d", 200, PER_S, { value: 250 })).toMatchObject({ met: true, verdict: "met" });
  });

  it("says by how much a goal was missed", () => {
    expect(atMost("x", "d", 3, MS, { value: 7.5 })).toMatchObject({
      met: false,
      verdict: "missed by 4.50 ms (2.5x the goal)",
    });
    expect(atLeast("y", "d", 200, PER_S, { value: 150 })).toMatchObject({
      met: false,
      verdict: "missed by 50.0/s (75% of the goal)",
    });
  });

  it("reports an unavailable measurement as not measured, never as met", () => {
    const check = atMost("x", "d", 3, MS, { unavailable: "python not loaded" });
    expect(check.met).toBeNull();
    expect(check.verdict).toBe("not measured: python not loaded");
  });
});

describe("checkTargets", () => {
  it("checks every target of the issue against one run", () => {
    const results: Omit<BenchResults, "targets"> = {
      version: 1,
      generatedAt: "now",
      git: { commit: "abc", dirty: false },
      machine,
      config: {},
      warm: {
        http: { javascript: latency(2), python: latency(2.5), ruby: latency(20), bash: { unavailable: "no" } },
        inProcess: {},
      },
      baselines: { native: { python: { ...latency(15), command: "python3 -c print(1)" } }, processSandbox: {} },
      throughput: {
        python: {
          cells: [
            { concurrency: 1, executions: 100, failures: 0, seconds: 1, perSecond: 100 },
            { concurrency: 8, executions: 300, failures: 0, seconds: 1, perSecond: 300 },
          ],
        },
      },
      coldStart: { javascript: { runs: [], firstResultMs: 1500, readyMs: 1400 } },
    };
    const byId = new Map(checkTargets(results).map((c) => [c.id, c]));
    expect(byId.get("warm-http-p50-javascript")?.met).toBe(true);
    expect(byId.get("warm-http-p50-ruby")?.verdict).toMatch(/^missed by 17\.00 ms/);
    expect(byId.get("warm-http-p50-bash")?.met).toBeNull();
    expect(byId.get("python-vs-native-spawn")).toMatchObject({ met: true, measured: expect.stringMatching(/^6\.0x/) });
    expect(byId.get("python-throughput")).toMatchObject({ met: true, measured: expect.stringMatching(/^300\.0\/s/) });
    expect(byId.get("cold-start-javascript")?.met).toBe(true);
    expect(byId.get("cold-start-ruby")?.verdict).toMatch(/not measured/);
    expect(byId.get("rss-pooled-python")?.met).toBeNull();
    expect(byId.size).toBe(14);
  });
});

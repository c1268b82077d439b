import { describe, expect, it } from "vitest";
import { BenchConfigError, loadBenchConfig } from "./config.js";

describe("loadBenchConfig", () => {
  it("has sane defaults", () => {
    const config = loadBenchConfig([], {});
    expect(config.samples).toBe(200);
    expect(config.concurrency).toEqual([1, 2, 8, 32]);
    expect(config.languages).toEqual(["javascript", "ruby", "python", "bash"]);
    expect(config.only).toContain("cold");
    expect(config.quick).toBe(false);
  });

  it("reads BENCH_* variables and lets flags win", () => {
    const config = loadBenchConfig(["--samples=50", "--only=warm,rss"], {
      BENCH_SAMPLES: "20",
      BENCH_THROUGHPUT_SECONDS: "1.5",
    });
    expect(config.samples).toBe(50);
    expect(config.throughputSeconds).toBe(1.5);
    expect(config.only).toEqual(["warm", "rss"]);
  });

  it("lowers counts with --quick", () => {
    const config = loadBenchConfig(["--quick"], {});
    expect(config.quick).toBe(true);
    expect(config.samples).toBeLessThan(200);
    expect(config.pyodideRuns).toBe(0);
  });

  it("refuses unknown flags and invalid values", () => {
    expect(() => loadBenchConfig(["--sample=3"], {})).toThrow(BenchConfigError);
    expect(() => loadBenchConfig(["--languages=cobol"], {})).toThrow(/languages/);
    expect(() => loadBenchConfig(["--concurrency=0"], {})).toThrow(/concurrency/);
  });
});

import { describe, expect, it } from "vitest";
import { loadBenchConfig } from "../lib/config.js";
import { warmSeriesOptions } from "./warm.js";

describe("warmSeriesOptions", () => {
  it("pauses before each sampled execution of the paused series only, never in a warm-up", () => {
    const options = warmSeriesOptions(loadBenchConfig(["--gapMs=10", "--warmup=30", "--serverWarmup=4000"], {}));
    expect(options.httpEarly).toMatchObject({ warmup: 30, gapMs: 10 });
    expect(options.httpSteady).toMatchObject({ warmup: 4000, gapMs: 10 });
    expect(options.inProcessPaused).toMatchObject({ warmup: 0, gapMs: 10 });
    // The back-to-back series: no pause at all (they once inherited the configuration's gap).
    expect(options.httpBackToBack?.gapMs).toBeUndefined();
    expect(options.inProcess.gapMs).toBeUndefined();
    expect(options.httpBackToBack?.warmup).toBe(0);
  });

  it("has no separate back-to-back or paused series when the gap is 0", () => {
    const options = warmSeriesOptions(loadBenchConfig(["--gapMs=0"], {}));
    expect(options.httpSteady.gapMs).toBe(0);
    expect(options.httpBackToBack).toBeUndefined();
    expect(options.inProcessPaused).toBeUndefined();
  });
});

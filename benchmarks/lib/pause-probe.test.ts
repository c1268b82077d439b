import { describe, expect, it } from "vitest";
import { measurePauseProbe, probeWork } from "./pause-probe.js";

describe("measurePauseProbe", () => {
  it("times the work back-to-back (after the warm-up), then the paused series, and reports the ratio of the p50s", async () => {
    // A clock the work advances: 1 ms per run for the warm-up and the back-to-back series (7 runs),
    // 1.5 ms per run after that.
    let clock = 0;
    let runs = 0;
    const work = () => {
      runs++;
      clock += runs <= 7 ? 1 : 1.5;
    };
    const probe = await measurePauseProbe({ pauseMs: 1, samples: 5, warmup: 2, work, now: () => clock });
    expect(probe).toEqual({ pauseMs: 1, backToBackP50Ms: 1, pausedP50Ms: 1.5, ratio: 1.5 });
    expect(runs).toBe(12);
  });

  it("does the same work every time", () => {
    expect(probeWork()).toBe(probeWork());
    expect(probeWork()).toBeGreaterThan(6 * 10_000);
  });
});

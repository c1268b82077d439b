import { describe, expect, it } from "vitest";
import { LimitHitTracker } from "./limit-hits.js";

describe("LimitHitTracker", () => {
  it("fires once when a key reaches the threshold within the window, then stays quiet for a window", () => {
    let t = 0;
    const tracker = new LimitHitTracker({ threshold: 3, windowMs: 1000, now: () => t });
    expect(tracker.record("k", "rate")).toBeUndefined();
    expect(tracker.record("other", "rate")).toBeUndefined();
    expect(tracker.record("k", "TIMEOUT")).toBeUndefined();
    expect(tracker.record("k", "rate")).toEqual({ rate: 2, TIMEOUT: 1 });
    t += 500;
    for (let i = 0; i < 10; i++) expect(tracker.record("k", "rate")).toBeUndefined();
    t += 500;
    expect(tracker.record("k", "rate")).toEqual({ rate: 11 });
  });

  it("forgets hits older than the window", () => {
    let t = 0;
    const tracker = new LimitHitTracker({ threshold: 2, windowMs: 1000, now: () => t });
    tracker.record("k", "rate");
    t += 1500;
    expect(tracker.record("k", "rate")).toBeUndefined();
    expect(tracker.record("k", "rate")).toEqual({ rate: 2 });
  });
});

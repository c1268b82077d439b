import { describe, expect, it } from "vitest";
import { ReadyProbeSchedule } from "./server.js";

describe("ReadyProbeSchedule", () => {
  it("asks first, then only when the log grew", () => {
    const schedule = new ReadyProbeSchedule();
    expect(schedule.shouldAsk(0, 0)).toBe(true);
    expect(schedule.shouldAsk(0, 5)).toBe(false);
    expect(schedule.shouldAsk(0, 10)).toBe(false);
    expect(schedule.shouldAsk(120, 15)).toBe(true);
    expect(schedule.shouldAsk(120, 20)).toBe(false);
    expect(schedule.shouldAsk(300, 25)).toBe(true);
  });

  it("asks at least every FALLBACK_MS when the log stays the same (a server logging above info)", () => {
    const schedule = new ReadyProbeSchedule();
    const fallback = ReadyProbeSchedule.FALLBACK_MS;
    expect(schedule.shouldAsk(0, 1_000)).toBe(true);
    expect(schedule.shouldAsk(0, 1_000 + fallback - 1)).toBe(false);
    expect(schedule.shouldAsk(0, 1_000 + fallback)).toBe(true);
    expect(schedule.shouldAsk(0, 1_000 + fallback + 1)).toBe(false);
  });
});

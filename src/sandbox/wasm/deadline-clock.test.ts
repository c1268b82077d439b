import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadlineClock } from "./deadline-clock.js";

describe("DeadlineClock", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function clock(timeoutMs = 100, graceMs = 50) {
    const events: string[] = [];
    const c = new DeadlineClock(
      Date.now() + timeoutMs,
      graceMs,
      () => events.push(`cancel@${Date.now() - 1_000_000}`),
      () => events.push(`kill@${Date.now() - 1_000_000}`),
    );
    return { c, events };
  }

  it("asks to stop at the deadline and kills after the grace", () => {
    const { events } = clock();
    vi.advanceTimersByTime(200);
    expect(events).toEqual(["cancel@100", "kill@150"]);
  });

  it("a pause moves the deadline later by its length", () => {
    const { c, events } = clock();
    vi.advanceTimersByTime(60);
    const resume = c.pause();
    vi.advanceTimersByTime(1_000);
    expect(events).toEqual([]);
    expect(c.deadline).toBe(1_000_000 + 100 + 1_000);
    resume();
    resume(); // idempotent
    vi.advanceTimersByTime(39);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(events).toEqual(["cancel@1100", "kill@1150"]);
  });

  it("nested pauses resume only when the last one ends", () => {
    const { c, events } = clock();
    const outer = c.pause();
    const inner = c.pause();
    vi.advanceTimersByTime(500);
    inner();
    vi.advanceTimersByTime(500);
    expect(events).toEqual([]);
    outer();
    vi.advanceTimersByTime(100);
    expect(events).toEqual(["cancel@1100"]);
  });

  it("stop clears the timers for good", () => {
    const { c, events } = clock();
    const resume = c.pause();
    c.stop();
    resume();
    vi.advanceTimersByTime(10_000);
    expect(events).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { median, percentile, round, summarize } from "./stats.js";

describe("percentile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it("picks the value at the ceiling rank", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([7], 99)).toBe(7);
  });

  it("refuses empty input and out-of-range percentiles", () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile([1], 0)).toThrow(/out of range/);
    expect(() => percentile([1], 101)).toThrow(/out of range/);
  });
});

describe("summarize", () => {
  it("sorts unsorted samples and reports p50, p99, mean, min and max", () => {
    const samples = [5, 1, 4, 2, 3];
    expect(summarize(samples)).toEqual({ n: 5, p50Ms: 3, p99Ms: 5, meanMs: 3, minMs: 1, maxMs: 5 });
    expect(samples).toEqual([5, 1, 4, 2, 3]);
  });

  it("rounds to hundredths", () => {
    expect(round(1.23456)).toBe(1.23);
    expect(summarize([1.006, 1.006]).p50Ms).toBe(1.01);
  });

  it("median of an even count is the lower middle (nearest rank)", () => {
    expect(median([4, 1, 3, 2])).toBe(2);
  });
});

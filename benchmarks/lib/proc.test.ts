import { describe, expect, it } from "vitest";
import { parseCpuTimes, stolenShare } from "./proc.js";

const STAT = `cpu  7001793 5965 824151 6144991 20086 0 41372 450066 0 0
cpu0 3500000 3000 412000 3072000 10000 0 20000 225000 0 0
intr 1 2 3
`;

describe("parseCpuTimes", () => {
  it("sums the eight kinds of time of the aggregate line and takes steal apart", () => {
    expect(parseCpuTimes(STAT)).toEqual({
      total: 7001793 + 5965 + 824151 + 6144991 + 20086 + 0 + 41372 + 450066,
      steal: 450066,
    });
  });

  it("refuses a file without the aggregate line or with a short one", () => {
    expect(() => parseCpuTimes("cpu0 1 2 3 4 5 6 7 8\n")).toThrow(/no aggregate cpu line/);
    expect(() => parseCpuTimes("cpu  1 2 3\n")).toThrow(/unexpected/);
  });
});

describe("stolenShare", () => {
  it("is the steal ticks over all ticks between two readings", () => {
    expect(stolenShare({ total: 1000, steal: 100 }, { total: 5000, steal: 1100 })).toBe(0.25);
  });

  it("is undefined when no time passed", () => {
    expect(stolenShare({ total: 1000, steal: 100 }, { total: 1000, steal: 100 })).toBeUndefined();
  });
});

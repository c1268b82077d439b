import { describe, expect, it } from "vitest";
import { randomBase64url, randomHex } from "./random-ids.js";

describe("random ids", () => {
  it("encodes the asked number of bytes", () => {
    expect(randomHex(8)).toMatch(/^[0-9a-f]{16}$/);
    expect(randomHex(16)).toMatch(/^[0-9a-f]{32}$/);
    expect(randomBase64url(12)).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it("never hands out the same bytes twice, across many refills of the block", () => {
    // 5,000 x 16 bytes is about twenty 4 KiB blocks.
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(randomHex(16));
    expect(seen.size).toBe(5000);
  });

  it("hands out sizes that do not divide the block, across its boundary", () => {
    // 4096 is not a multiple of 7: some draw finds too few bytes left and must refill first.
    const ids = Array.from({ length: 1200 }, () => randomHex(7));
    expect(ids.every((id) => id.length === 14)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("refuses a request larger than its block", () => {
    expect(() => randomHex(4097)).toThrow(RangeError);
  });
});

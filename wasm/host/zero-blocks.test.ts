import { describe, expect, it } from "vitest";
import { BLOCK_BYTES, isZeroRange, zeroDirtyBlocks } from "./zero-blocks.js";

describe("zero blocks", () => {
  it("finds a single non-zero byte anywhere in a range, including a partial last block", () => {
    const bytes = new Uint8Array(3 * BLOCK_BYTES + 100);
    expect(isZeroRange(bytes, 0, bytes.byteLength)).toBe(true);
    for (const at of [0, BLOCK_BYTES - 1, BLOCK_BYTES, 2 * BLOCK_BYTES + 17, bytes.byteLength - 1]) {
      bytes[at] = 1;
      expect(isZeroRange(bytes, 0, bytes.byteLength)).toBe(false);
      // Outside the range the byte does not count.
      expect(isZeroRange(bytes, at + 1, bytes.byteLength)).toBe(true);
      bytes[at] = 0;
    }
  });

  it("zeroes only dirty blocks, to the byte", () => {
    const bytes = new Uint8Array(4 * BLOCK_BYTES);
    bytes.fill(7, BLOCK_BYTES + 5, BLOCK_BYTES + 9);
    bytes[3 * BLOCK_BYTES + 1] = 9;
    zeroDirtyBlocks(bytes, 0, 3 * BLOCK_BYTES);
    expect(isZeroRange(bytes, 0, 3 * BLOCK_BYTES)).toBe(true);
    expect(bytes[3 * BLOCK_BYTES + 1]).toBe(9);
  });
});

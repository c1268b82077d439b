import { describe, expect, it } from "vitest";
import { BLOCK_BYTES, isZeroRange, SIMD_ZERO_SCAN, zeroDirtyBlocks, zeroDirtyMemory } from "./zero-blocks.js";

const PAGE = 65536;

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

describe("zeroDirtyMemory", () => {
  it("scans with WebAssembly SIMD on this Node", () => {
    expect(SIMD_ZERO_SCAN).toBe(true);
  });

  it("zeroes every non-zero byte of the range, whatever lane or block it sits in, and nothing outside", () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 8 });
    const bytes = new Uint8Array(memory.buffer);
    const start = BLOCK_BYTES;
    const end = 3 * PAGE + 64;
    // One byte in each 16-byte lane of the first 64-byte step, block edges, the range's last byte.
    const inside = [start, start + 17, start + 34, start + 63, 2 * BLOCK_BYTES - 1, PAGE, end - 1];
    const outside = [start - 1, end, 4 * PAGE - 1];
    for (const at of [...inside, ...outside]) bytes[at] = 0xa5;
    zeroDirtyMemory(memory, start, end);
    for (const at of inside) expect(bytes[at], `byte ${at}`).toBe(0);
    for (const at of outside) expect(bytes[at], `byte ${at}`).toBe(0xa5);
    expect(isZeroRange(bytes, start, end)).toBe(true);
  });

  it("gives the same memory as the byte path on random contents, and follows the memory as it grows", () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 8 });
    const fill = (bytes: Uint8Array, seed: number) => {
      let x = seed;
      for (let i = 0; i < 400; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        bytes[x % bytes.byteLength] = (x >>> 24) | 1;
      }
    };
    for (const seed of [1, 2, 3]) {
      memory.grow(1);
      const bytes = new Uint8Array(memory.buffer);
      fill(bytes, seed);
      const expected = bytes.slice();
      zeroDirtyBlocks(expected, 128, bytes.byteLength - 64);
      zeroDirtyMemory(memory, 128, bytes.byteLength - 64);
      expect(Buffer.compare(new Uint8Array(memory.buffer), expected)).toBe(0);
    }
  });

  it("takes the byte path for a range off the 64-byte step, with the same result", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const bytes = new Uint8Array(memory.buffer);
    bytes[10] = 1;
    bytes[5000] = 2;
    bytes[3] = 3;
    zeroDirtyMemory(memory, 7, 6000);
    expect([bytes[3], bytes[10], bytes[5000]]).toEqual([3, 0, 0]);
  });

  it("refuses a range outside the memory, and does nothing for an empty one", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    expect(() => zeroDirtyMemory(memory, 0, PAGE + 64)).toThrow(RangeError);
    expect(() => zeroDirtyMemory(memory, -64, 64)).toThrow(RangeError);
    new Uint8Array(memory.buffer)[0] = 1;
    zeroDirtyMemory(memory, 64, 64);
    expect(new Uint8Array(memory.buffer)[0]).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { BLOCK_BYTES, MemoryImage, nonZeroBlocks } from "./memory-image.js";

const bytes = (memory: WebAssembly.Memory) => new Uint8Array(memory.buffer);

describe("MemoryImage", () => {
  it("copies only non-zero blocks, and applying it reproduces the memory", () => {
    const source = new WebAssembly.Memory({ initial: 2 });
    bytes(source).set([1, 2, 3], 10);
    bytes(source)[WASM_PAGE_BYTES + 5] = 9;
    bytes(source)[2 * WASM_PAGE_BYTES - 1] = 7;
    const image = MemoryImage.capture(source, new Uint8Array(0));
    expect(image.copiedBytes).toBe(3 * BLOCK_BYTES);

    const target = new WebAssembly.Memory({ initial: 2 });
    image.applyTo(target);
    expect(Buffer.compare(bytes(target), bytes(source))).toBe(0);
  });

  it("also overwrites the blocks named in alsoBlocks, zeroing what the target held there", () => {
    const source = new WebAssembly.Memory({ initial: 1 });
    bytes(source)[0] = 1;
    const target = new WebAssembly.Memory({ initial: 1 });
    bytes(target)[3 * BLOCK_BYTES + 1] = 42;
    const image = MemoryImage.capture(source, nonZeroBlocks(target));
    image.applyTo(target);
    expect(bytes(target)[3 * BLOCK_BYTES + 1]).toBe(0);
    expect(Buffer.compare(bytes(target), bytes(source))).toBe(0);
  });

  it("flags exactly the blocks holding a non-zero byte", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    bytes(memory)[BLOCK_BYTES * 2 + BLOCK_BYTES - 1] = 1;
    expect(Array.from(nonZeroBlocks(memory).subarray(0, 4))).toEqual([0, 0, 1, 0]);
  });

  it("refuses a target of another size", () => {
    const image = MemoryImage.capture(new WebAssembly.Memory({ initial: 1 }), new Uint8Array(0));
    expect(() => image.applyTo(new WebAssembly.Memory({ initial: 2 }))).toThrow(/size differs/);
  });
});

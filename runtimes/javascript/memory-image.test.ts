import { describe, expect, it } from "vitest";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { BLOCK_BYTES, MemoryImage, nonZeroBlocks, type PlainMemoryImage } from "./memory-image.js";

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

describe("MemoryImage plain form", () => {
  /** Two pages: runs [0, 4096) and [65536 + 4096, 65536 + 12288). */
  function sample(): { source: WebAssembly.Memory; image: MemoryImage } {
    const source = new WebAssembly.Memory({ initial: 2 });
    bytes(source)[7] = 1;
    bytes(source)[WASM_PAGE_BYTES + BLOCK_BYTES] = 2;
    bytes(source)[WASM_PAGE_BYTES + 3 * BLOCK_BYTES - 1] = 3;
    return { source, image: MemoryImage.capture(source, new Uint8Array(0)) };
  }

  it("survives a structured clone and reproduces the memory", () => {
    const { source, image } = sample();
    const plain = structuredClone(image.toPlain());
    expect(Array.from(plain.runs)).toEqual([
      0,
      BLOCK_BYTES,
      WASM_PAGE_BYTES + BLOCK_BYTES,
      WASM_PAGE_BYTES + 3 * BLOCK_BYTES,
    ]);
    const back = MemoryImage.fromPlain(plain);
    expect(back.memoryBytes).toBe(image.memoryBytes);
    expect(back.copiedBytes).toBe(3 * BLOCK_BYTES);
    const target = new WebAssembly.Memory({ initial: 2 });
    back.applyTo(target);
    expect(Buffer.compare(bytes(target), bytes(source))).toBe(0);
  });

  it("reads its data from a SharedArrayBuffer as is, and keeps its own copy of the runs", () => {
    const { source, image } = sample();
    const plain = image.toPlain();
    const shared = new Uint8Array(new SharedArrayBuffer(plain.data.byteLength));
    shared.set(plain.data);
    const runs = plain.runs.slice();
    const back = MemoryImage.fromPlain({ ...plain, runs, data: shared });
    runs[0] = WASM_PAGE_BYTES; // a later change to the plain form must not move a write
    const target = new WebAssembly.Memory({ initial: 2 });
    back.applyTo(target);
    expect(Buffer.compare(bytes(target), bytes(source))).toBe(0);
  });

  const tampered: [string, (plain: PlainMemoryImage) => unknown, RegExp][] = [
    ["not an object", () => null, /not an object/],
    ["an extra field", (p) => ({ ...p, extra: 1 }), /unexpected fields/],
    ["a missing field", ({ runs, data }) => ({ runs, data }), /unexpected fields/],
    ["a size that is not whole pages", (p) => ({ ...p, memoryBytes: p.memoryBytes - 1 }), /wasm pages/],
    ["a size beyond 4 GiB", (p) => ({ ...p, memoryBytes: 65_537 * WASM_PAGE_BYTES }), /wasm pages/],
    ["runs of another type", (p) => ({ ...p, runs: Array.from(p.runs) }), /Uint32Array/],
    ["an odd number of offsets", (p) => ({ ...p, runs: p.runs.subarray(1) }), /pairs/],
    ["data of another type", (p) => ({ ...p, data: Array.from(p.data) }), /data is not a Uint8Array/],
    ["an unaligned run", (p) => ({ ...p, runs: shifted(p.runs, 0, 1) }), /run 0/],
    ["an empty run", (p) => ({ ...p, runs: Uint32Array.from([0, 0]), data: new Uint8Array(0) }), /run 0/],
    ["a run past the memory", (p) => ({ ...p, runs: shifted(p.runs, 3, WASM_PAGE_BYTES) }), /run 1/],
    [
      "overlapping runs",
      (p) => ({ ...p, runs: Uint32Array.from([0, 2 * BLOCK_BYTES, BLOCK_BYTES, 3 * BLOCK_BYTES]) }),
      /run 1/,
    ],
    [
      "runs out of order",
      (p) => ({ ...p, runs: Uint32Array.from([...p.runs.subarray(2), ...p.runs.subarray(0, 2)]) }),
      /run 1/,
    ],
    ["data shorter than the runs", (p) => ({ ...p, data: p.data.subarray(1) }), /data holds/],
  ];

  it.each(tampered)("refuses %s", (_name, tamper, message) => {
    const { image } = sample();
    expect(() => MemoryImage.fromPlain(tamper(image.toPlain()))).toThrow(message);
    // The untampered form passes: the refusal is the tampering's.
    expect(() => MemoryImage.fromPlain(image.toPlain())).not.toThrow();
  });
});

/** A copy of `runs` with `delta` added at `index`. */
function shifted(runs: Uint32Array, index: number, delta: number): Uint32Array {
  const copy = runs.slice();
  copy[index] = (copy[index] ?? 0) + delta;
  return copy;
}

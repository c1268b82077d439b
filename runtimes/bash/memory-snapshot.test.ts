import { describe, expect, it } from "vitest";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { captureChanges, captureImage, MemorySnapshot, writeImage } from "./memory-snapshot.js";

const P = WASM_PAGE_BYTES;

describe("MemorySnapshot", () => {
  it("restores every byte and zeroes memory grown since the snapshot", () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 8 });
    const view = () => new Uint8Array(memory.buffer);
    view().set([1, 2, 3], 100);
    const snapshot = new MemorySnapshot(memory);
    expect(snapshot.byteLength).toBe(2 * P);

    view().fill(9);
    memory.grow(2);
    view().fill(7, 2 * P);
    snapshot.restore();

    expect(Array.from(view().subarray(99, 104))).toEqual([0, 1, 2, 3, 0]);
    expect(
      view()
        .subarray(0, 2 * P)
        .filter((b) => b === 9).length,
    ).toBe(0);
    expect(view().byteLength).toBe(4 * P);
    expect(
      view()
        .subarray(2 * P)
        .every((b) => b === 0),
    ).toBe(true);
  });

  it("keeps its own copy: later writes do not change what is restored", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    new Uint8Array(memory.buffer)[0] = 42;
    const snapshot = new MemorySnapshot(memory);
    new Uint8Array(memory.buffer)[0] = 1;
    snapshot.restore();
    snapshot.restore();
    expect(new Uint8Array(memory.buffer)[0]).toBe(42);
  });
});

describe("MemorySnapshot over a base image (a clone's)", () => {
  /** A memory of 6 pages with data in pages 1-2 and 4, its image, and a second memory written from it. */
  function cloned() {
    const source = new WebAssembly.Memory({ initial: 6 });
    const bytes = new Uint8Array(source.buffer);
    for (let i = P; i < 3 * P; i++) bytes[i] = (i * 13) & 0xff;
    bytes[4 * P + 3] = 9;
    const base = captureImage(source);
    const memory = new WebAssembly.Memory({ initial: 6, maximum: 8 });
    writeImage(base, memory);
    return { base, memory, view: () => new Uint8Array(memory.buffer), original: bytes.slice() };
  }

  it("copies only the pages that differ from the base: inside its runs and where it has zeros", () => {
    const { base, memory, view } = cloned();
    expect(captureChanges(memory, base).runs).toEqual(new Uint32Array(0));
    view()[2 * P + 5] = ~(view()[2 * P + 5] ?? 0) & 0xff; // in the base's first run
    view()[5 * P + 1] = 7; // where the base has zeros
    view()[4 * P + 3] = 0; // a page of the base zeroed
    const changes = captureChanges(memory, base);
    expect(Array.from(changes.runs)).toEqual([2 * P, P, 4 * P, 2 * P]);
    expect(Buffer.compare(changes.data.subarray(0, P), view().subarray(2 * P, 3 * P))).toBe(0);
    expect(Buffer.compare(changes.data.subarray(P), view().subarray(4 * P, 6 * P))).toBe(0);
  });

  it("shares the base and restores it with the changes made before the snapshot, nothing later", () => {
    const { base, memory, view, original } = cloned();
    view()[2 * P + 5] = 1;
    view()[5 * P + 1] = 7;
    const snapshot = new MemorySnapshot(memory, base);
    expect(snapshot.image).toBe(base);
    const expected = view().slice();

    view().fill(3, 0, 6 * P);
    memory.grow(1);
    view().fill(4, 6 * P);
    snapshot.restore();
    expect(Buffer.compare(view().subarray(0, 6 * P), expected)).toBe(0);
    expect(
      view()
        .subarray(6 * P)
        .every((b) => b === 0),
    ).toBe(true);
    // The base itself was not written to.
    const rewritten = new WebAssembly.Memory({ initial: 6 });
    writeImage(base, rewritten);
    expect(Buffer.compare(new Uint8Array(rewritten.buffer), original)).toBe(0);
  });

  it("refuses a base of another size", () => {
    const { base } = cloned();
    expect(() => captureChanges(new WebAssembly.Memory({ initial: 7 }), base)).toThrow(RangeError);
  });
});

describe("MemoryImage", () => {
  it("holds only the pages with a non-zero byte, adjacent ones as one run", () => {
    const memory = new WebAssembly.Memory({ initial: 6 });
    const view = new Uint8Array(memory.buffer);
    view[5] = 1; // page 0
    view[2 * P + 7] = 2; // pages 2 and 3: one run
    view[4 * P - 1] = 3;
    const image = captureImage(memory);
    expect(image.byteLength).toBe(6 * P);
    expect(Array.from(image.runs)).toEqual([0, P, 2 * P, 2 * P]);
    expect(image.data.byteLength).toBe(3 * P);
    expect([image.data[5], image.data[P + 7], image.data[3 * P - 1]]).toEqual([1, 2, 3]);
  });

  it("writes back every byte: the runs, zeros over dirtied gaps and above its size", () => {
    const source = new WebAssembly.Memory({ initial: 4 });
    const original = new Uint8Array(source.buffer);
    for (let i = 0; i < P; i++) original[i] = (i * 7) & 0xff;
    original[3 * P + 11] = 5;
    const image = captureImage(source);

    const target = new WebAssembly.Memory({ initial: 6 });
    new Uint8Array(target.buffer).fill(0xee);
    writeImage(image, target);
    const written = new Uint8Array(target.buffer);
    expect(Buffer.compare(written.subarray(0, 4 * P), original)).toBe(0);
    expect(written.subarray(4 * P).every((b) => b === 0)).toBe(true);
  });

  it("refuses a memory smaller than the image", () => {
    const image = captureImage(new WebAssembly.Memory({ initial: 3 }));
    expect(() => writeImage(image, new WebAssembly.Memory({ initial: 2 }))).toThrow(RangeError);
  });
});

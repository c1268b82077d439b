import { describe, expect, it } from "vitest";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { MemorySnapshot } from "./memory-snapshot.js";

describe("MemorySnapshot", () => {
  it("restores every byte and zeroes memory grown since the snapshot", () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 8 });
    const view = () => new Uint8Array(memory.buffer);
    view().set([1, 2, 3], 100);
    const snapshot = new MemorySnapshot(memory);
    expect(snapshot.byteLength).toBe(2 * WASM_PAGE_BYTES);

    view().fill(9);
    memory.grow(2);
    view().fill(7, 2 * WASM_PAGE_BYTES);
    snapshot.restore();

    expect(Array.from(view().subarray(99, 104))).toEqual([0, 1, 2, 3, 0]);
    expect(
      view()
        .subarray(0, 2 * WASM_PAGE_BYTES)
        .filter((b) => b === 9).length,
    ).toBe(0);
    expect(view().byteLength).toBe(4 * WASM_PAGE_BYTES);
    expect(
      view()
        .subarray(2 * WASM_PAGE_BYTES)
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

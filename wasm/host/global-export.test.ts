import { describe, expect, it } from "vitest";
import { exportMutableGlobals, GLOBAL_EXPORT_PREFIX } from "./global-export.js";
import { importMemory } from "./memory-import.js";
import { captureSnapshot, isMemoryZero, restoreSnapshot } from "./memory-snapshot.js";
import { tinyExports, tinyModule } from "./wasm-test-modules.js";

async function compileTiny(): Promise<{ module: WebAssembly.Module; names: readonly string[] }> {
  const withImport = importMemory(tinyModule(null));
  const rewritten = exportMutableGlobals(withImport.bytes);
  return { module: await WebAssembly.compile(rewritten.bytes), names: rewritten.exportNames };
}

describe("exportMutableGlobals", () => {
  it("exports every mutable global under the prefix, keeping the existing exports", async () => {
    const { module, names } = await compileTiny();
    expect(names).toEqual([`${GLOBAL_EXPORT_PREFIX}0`]);
    const exported = WebAssembly.Module.exports(module).map((e) => e.name);
    expect(exported).toEqual(expect.arrayContaining(["memory", "size", "bump", "counter", `${GLOBAL_EXPORT_PREFIX}0`]));
  });
});

describe("memory snapshots", () => {
  it("restores memory and globals into a fresh instance", async () => {
    const { module, names } = await compileTiny();
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 8 });
    const first = await WebAssembly.instantiate(module, { env: { memory } });
    const a = tinyExports(first);
    expect(isMemoryZero(memory)).toBe(false); // the active data segment
    a.grow(2);
    a.bump();
    a.bump(); // counter 9
    new Uint8Array(memory.buffer)[3 * 65536 - 1] = 77;
    const snapshot = captureSnapshot(memory, first, names, false);
    expect(snapshot.pages).toBe(3);
    expect(Array.from(snapshot.pageIndexes)).toEqual([0, 2]); // page 1 is all zeros and not stored
    expect(snapshot.clearFirst).toBe(true);

    const memory2 = new WebAssembly.Memory({ initial: 1, maximum: 8 });
    const second = await WebAssembly.instantiate(module, { env: { memory: memory2 } });
    new Uint8Array(memory2.buffer)[100] = 5; // stale byte that the snapshot does not hold
    restoreSnapshot(snapshot, memory2, second);
    const b = tinyExports(second);
    expect(b.size()).toBe(3);
    expect(b.bump()).toBe(10);
    expect(b.peek(16)).toBe(0x68);
    expect(b.peek(100)).toBe(0);
    expect(b.peek(3 * 65536 - 1)).toBe(77);
    // The two instances share nothing.
    expect(a.bump()).toBe(10);
    expect(a.bump()).toBe(11);
    expect(b.bump()).toBe(11);
  });

  it("fails when the captured memory exceeds the new memory's maximum", async () => {
    const { module, names } = await compileTiny();
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 8 });
    const first = await WebAssembly.instantiate(module, { env: { memory } });
    tinyExports(first).grow(3);
    const snapshot = captureSnapshot(memory, first, names, false);
    const small = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    const second = await WebAssembly.instantiate(module, { env: { memory: small } });
    expect(() => restoreSnapshot(snapshot, small, second)).toThrow(RangeError);
  });
});

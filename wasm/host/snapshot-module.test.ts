import { describe, expect, it } from "vitest";
import { restoredSpares } from "../../runtimes/restored-spares.js";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { applySegments } from "./detach-data.js";
import { captureSnapshot } from "./memory-snapshot.js";
import {
  instantiateFresh,
  prepareRestored,
  type RestoreTarget,
  restoredPages,
  restoreInto,
  rewriteForSnapshots,
} from "./snapshot-module.js";
import { tinyExports, tinyModule } from "./wasm-test-modules.js";

/** The tiny module booted (segments applied, memory grown to 3 pages, counter bumped) and captured. */
async function bootedTarget(): Promise<RestoreTarget> {
  const ready = await rewriteForSnapshots(tinyModule(null));
  const memory = new WebAssembly.Memory({ initial: ready.minimumPages, maximum: 16 });
  const boot = instantiateFresh(ready, memory);
  applySegments(memory, ready.segments);
  const exports = tinyExports(boot.instance);
  exports.grow(2);
  exports.bump(); // counter 8
  new Uint8Array(memory.buffer)[3 * WASM_PAGE_BYTES - 1] = 77;
  return { ...ready, snapshot: captureSnapshot(memory, boot.instance, ready.globalNames, true) };
}

const LIMIT = 16 * WASM_PAGE_BYTES;

describe("restoreInto (a new instance on a used memory)", () => {
  it("leaves the memory byte for byte as a restore on a new memory does, and the globals too", async () => {
    const target = await bootedTarget();
    const fresh = prepareRestored(target, LIMIT);
    // A memory a guest used: every byte garbage, the counter moved on.
    const used = prepareRestored(target, LIMIT);
    tinyExports(used.instance).bump();
    new Uint8Array(used.memory.buffer).fill(0xab);
    const reused = restoreInto(target, used.memory);
    expect(reused.memory).toBe(used.memory);
    expect(reused.instance).not.toBe(used.instance);
    expect(Buffer.compare(Buffer.from(reused.memory.buffer), Buffer.from(fresh.memory.buffer))).toBe(0);
    const a = tinyExports(fresh.instance);
    const b = tinyExports(reused.instance);
    expect(b.size()).toBe(3);
    expect(b.peek(16)).toBe(0x68);
    expect(b.peek(3 * WASM_PAGE_BYTES - 1)).toBe(77);
    expect(b.peek(WASM_PAGE_BYTES + 5)).toBe(0); // a page the snapshot does not store
    expect(b.bump()).toBe(a.bump());
  });

  it("refuses a memory that grew past the restored size", async () => {
    const target = await bootedTarget();
    const used = prepareRestored(target, LIMIT);
    tinyExports(used.instance).grow(1);
    expect(() => restoreInto(target, used.memory)).toThrow(/not the size/);
  });
});

describe("restoredSpares recycling", () => {
  it("prepares the next spare on a handed-back memory of the same limit and size only", async () => {
    const target = await bootedTarget();
    const spares = await restoredSpares(target);
    const take = async () => {
      const instance = await spares.pool.take(LIMIT);
      return instance;
    };
    const first = await take();
    new Uint8Array(first.memory.buffer).fill(0xcd);
    spares.recycle(first.memory, LIMIT);
    const second = await take(); // prepared now, on the handed-back memory
    expect(spares.recycled).toBe(1);
    expect(second.memory).toBe(first.memory);
    expect(second.instance).not.toBe(first.instance);
    expect(tinyExports(second.instance).peek(100)).toBe(0);
    expect(tinyExports(second.instance).peek(16)).toBe(0x68);

    // Grown: not reused.
    tinyExports(second.instance).grow(1);
    spares.recycle(second.memory, LIMIT);
    expect((await take()).memory).not.toBe(second.memory);
    // Another limit: not reused (a memory's maximum is fixed).
    const third = await spares.pool.take(LIMIT);
    spares.recycle(third.memory, LIMIT);
    expect((await spares.pool.take(2 * LIMIT)).memory).not.toBe(third.memory);
    expect(spares.recycled).toBe(1);
    expect(restoredPages(target)).toBe(3);
  });
});

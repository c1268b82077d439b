import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { restoredSpares } from "../../runtimes/restored-spares.js";
import { DEFAULT_LIMITS, WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { applySegments, detachActiveData } from "./detach-data.js";
import { exportMutableGlobals } from "./global-export.js";
import { importMemory } from "./memory-import.js";
import { captureSnapshot } from "./memory-snapshot.js";
import {
  instantiateFresh,
  prepareForSnapshots,
  prepareRestored,
  type RestoreTarget,
  restoredPages,
  restoreInto,
  rewriteForSnapshots,
} from "./snapshot-module.js";
import { SectionId, writeModule } from "./wasm-binary.js";
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

/** The three rewrites one after the other, each over the whole module (what prepareForSnapshots fuses). */
function stepByStep(bytes: Uint8Array) {
  const detached = detachActiveData(bytes);
  const withMemoryImport = importMemory(detached.bytes);
  const withGlobals = exportMutableGlobals(withMemoryImport.bytes);
  return { bytes: withGlobals.bytes, detached, withMemoryImport, withGlobals };
}

describe("prepareForSnapshots", () => {
  it.each([
    ["the tiny test module", () => tinyModule(4)],
    [
      "ruby+stdlib.wasm",
      () =>
        new Uint8Array(
          readFileSync(createRequire(import.meta.url).resolve("@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm")),
        ),
    ],
  ])("gives byte for byte what the three rewrites give one after the other (%s)", (_name, read) => {
    const bytes = read();
    const fused = prepareForSnapshots(bytes);
    const steps = stepByStep(bytes);
    expect(Buffer.compare(fused.bytes, steps.bytes)).toBe(0);
    expect(fused.memoryImport).toEqual(steps.withMemoryImport.memoryImport);
    expect(fused.minimumPages).toBe(steps.withMemoryImport.minimumPages);
    expect(fused.globalNames).toEqual(steps.withGlobals.exportNames);
    expect(fused.segments.map((s) => s.offset)).toEqual(steps.detached.segments.map((s) => s.offset));
    const none = new Uint8Array(0);
    const same = fused.segments.every(
      (s, i) => Buffer.compare(s.bytes, steps.detached.segments[i]?.bytes ?? none) === 0,
    );
    expect(same).toBe(true);
    expect(fused.freshMemoryIsZero).toBe(true);
  });

  it("says a fresh memory is not all zero when the module has a start function", () => {
    const name = (text: string) => [text.length, ...new TextEncoder().encode(text)];
    const withStart = writeModule([
      { id: SectionId.type, content: Uint8Array.of(1, 0x60, 0, 0) },
      { id: SectionId.function, content: Uint8Array.of(1, 0) },
      { id: SectionId.memory, content: Uint8Array.of(1, 0, 1) },
      { id: SectionId.export, content: Uint8Array.of(1, ...name("memory"), 2, 0) },
      { id: SectionId.start, content: Uint8Array.of(0) },
      { id: SectionId.code, content: Uint8Array.of(1, 2, 0, 0x0b) },
    ]);
    expect(prepareForSnapshots(withStart).freshMemoryIsZero).toBe(false);
  });
});

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

describe("prepareWith (the host preparing a never-used instance)", () => {
  const host = (bound: WebAssembly.Instance[]) => ({
    imports: {},
    bind: (instance: WebAssembly.Instance) => void bound.push(instance),
  });

  it("binds the preparing host for the work only, then leaves the instance to its execution's host", async () => {
    const fresh = prepareRestored(await bootedTarget(), LIMIT);
    const bound: WebAssembly.Instance[] = [];
    let ran = 0;
    fresh.prepareWith(host(bound), () => ran++);
    expect(() =>
      fresh.prepareWith(host(bound), () => {
        throw new Error("the work failed");
      }),
    ).toThrow("the work failed");
    expect(ran).toBe(1);
    fresh.attach(host(bound));
    expect(bound).toEqual([fresh.instance, fresh.instance, fresh.instance]);
    expect(() => fresh.prepareWith(host(bound), () => ran++)).toThrow(/already has its WASI host/);
    expect(ran).toBe(1);
  });

  it("is how restoredSpares primes every spare, recycled or not, before take() hands it out", async () => {
    const primed: WebAssembly.Instance[] = [];
    const spares = await restoredSpares(await bootedTarget(), undefined, (spare) => primed.push(spare.instance));
    const first = await spares.pool.take(DEFAULT_LIMITS.memoryLimitBytes); // the spare primed at start
    expect(primed).toEqual([first.instance]);
    spares.recycle(first.memory, DEFAULT_LIMITS.memoryLimitBytes);
    const second = await spares.pool.take(DEFAULT_LIMITS.memoryLimitBytes); // prepared now, on that memory
    expect(second.memory).toBe(first.memory);
    expect(primed).toEqual([first.instance, second.instance]);
  });
});

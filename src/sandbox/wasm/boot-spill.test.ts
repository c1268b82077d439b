import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mapBootValue, readSpilledBytes, SPILL_MIN_BYTES, spillLargeBytes, WALK_INTO } from "./boot-spill.js";

/** Every test's directory lives under this one, removed once the file's tests are done. */
const root = mkdtempSync(join(tmpdir(), "boot-spill-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function spillPath(): string {
  return join(mkdtempSync(join(root, "case-")), "reply.bin");
}

/** What IPC would deliver of `value` (structured clone). */
function overIpc<T>(value: T): T {
  return structuredClone(value);
}

function filled(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

describe("boot spill", () => {
  it("moves large arrays through the file and leaves small ones and other data in the reply", () => {
    const path = spillPath();
    const backing = filled(SPILL_MIN_BYTES * 3, 5);
    const view = backing.subarray(7, 7 + SPILL_MIN_BYTES);
    const words = new Uint32Array(SPILL_MIN_BYTES / 2);
    words.forEach((_, i) => {
      words[i] = i * 2654435761;
    });
    const small = new Uint8Array([1, 2, 3]);
    const value = { snapshot: { data: view, pages: 3, names: ["a", "b"] }, list: [words, small], text: "x" };
    const sent = overIpc(spillLargeBytes(value, path)) as Record<string, unknown>;
    // The reply holds markers and small data only; the file holds both large arrays, aligned.
    expect(JSON.stringify(sent).length).toBeLessThan(1_000);
    expect(statSync(path).size).toBeGreaterThanOrEqual(view.byteLength + words.byteLength);
    expect(statSync(path).mode & 0o777).toBe(0o600);

    for (const shared of [true, false]) {
      const out = readSpilledBytes(sent, path, shared) as typeof value;
      const BufferType = shared ? SharedArrayBuffer : ArrayBuffer;
      expect(out.snapshot.data).toBeInstanceOf(Uint8Array);
      expect(out.snapshot.data.buffer).toBeInstanceOf(BufferType);
      expect(out.snapshot.data.byteOffset).toBe(0);
      expect(out.snapshot.data.buffer.byteLength).toBe(view.byteLength);
      expect(sameBytes(out.snapshot.data, view)).toBe(true);
      expect(out.snapshot.pages).toBe(3);
      expect(out.snapshot.names).toEqual(["a", "b"]);
      expect(out.list[0]).toBeInstanceOf(Uint32Array);
      expect(out.list[0]?.buffer).toBeInstanceOf(BufferType);
      expect([...(out.list[0] as Uint32Array)]).toEqual([...words]);
      expect([...(out.list[1] as Uint8Array)]).toEqual([1, 2, 3]);
      expect(out.text).toBe("x");
    }
  });

  it("returns a reply without markers as it is, without opening a file", () => {
    const value = { bytes: new Uint8Array([9]), n: 1 };
    expect(readSpilledBytes(value, join(tmpdir(), "no-such-dir-for-boot-spill", "reply.bin"), true)).toBe(value);
  });

  it("walks arrays and plain objects only, and returns containers nothing in changed as they are", () => {
    const map = new Map([["k", 1]]);
    const untouched = { list: [1, "a"], nested: { n: 2 } };
    const value = { map, untouched, twice: [3, { n: 3 }] };
    const out = mapBootValue(value, (item) => (item === 3 ? 6 : WALK_INTO)) as typeof value;
    expect(out).not.toBe(value);
    expect(out.map).toBe(map);
    expect(out.untouched).toBe(untouched);
    expect(out.twice).toEqual([6, { n: 6 }]);
    expect(value.twice).toEqual([3, { n: 3 }]);
  });

  it("never writes over an existing file", () => {
    const path = spillPath();
    writeFileSync(path, "earlier");
    expect(() => spillLargeBytes({ data: new Uint8Array(SPILL_MIN_BYTES) }, path)).toThrow(/EEXIST/);
    expect(readFileSync(path, "utf8")).toBe("earlier");
  });

  it("refuses markers outside the file, of unknown types or of lengths their type cannot hold", () => {
    const path = spillPath();
    const sent = overIpc(spillLargeBytes({ data: filled(SPILL_MIN_BYTES, 1) }, path)) as {
      data: { bootSpill: Record<string, unknown> };
    };
    const tampered = (change: Record<string, unknown>) => ({
      data: { bootSpill: { ...sent.data.bootSpill, ...change } },
    });
    expect(() => readSpilledBytes(tampered({ offset: 1 }), path, true)).toThrow(/does not hold/);
    expect(() => readSpilledBytes(tampered({ byteLength: SPILL_MIN_BYTES * 2 }), path, true)).toThrow(/does not hold/);
    expect(() => readSpilledBytes(tampered({ offset: -8 }), path, true)).toThrow(/does not hold/);
    expect(() => readSpilledBytes(tampered({ type: "Function" }), path, true)).toThrow(/does not hold/);
    expect(() => readSpilledBytes(tampered({ type: "constructor" }), path, true)).toThrow(/does not hold/);
    expect(() => readSpilledBytes(tampered({ type: "Uint32Array", byteLength: 6 }), path, true)).toThrow(
      /does not hold/,
    );
    expect(readSpilledBytes(sent, path, true)).toMatchObject({ data: expect.any(Uint8Array) });
  });
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

import { describe, expect, it } from "vitest";
import { applySegments, detachActiveData } from "./detach-data.js";
import { readSections, SectionId, WASM_HEADER, writeModule } from "./wasm-binary.js";

const memorySection = { id: SectionId.memory, content: Uint8Array.of(1, 0x00, 1) };
const exportSection = {
  id: SectionId.export,
  content: Uint8Array.of(1, 6, ...new TextEncoder().encode("memory"), 2, 0),
};
/** Segment 0: active at 16, "hi"; segment 1: passive "p"; segment 2: active (flags 2, memory 0) at 200 (LEB 0xc8 0x01), "yo". */
const dataSection = {
  id: SectionId.data,
  content: Uint8Array.of(3, 0, 0x41, 16, 0x0b, 2, 0x68, 0x69, 1, 1, 0x70, 2, 0, 0x41, 0xc8, 0x01, 0x0b, 2, 0x79, 0x6f),
};

function moduleWith(data: boolean): Uint8Array<ArrayBuffer> {
  return writeModule(data ? [memorySection, exportSection, dataSection] : [memorySection, exportSection]);
}

/**
 * Memory, a data count section, segment 0 active "hi" at 16, segment 1 passive "p", and exports
 * init0 / init1 (dest, src, n) doing memory.init of segment 0 / 1, and drop0 (data.drop 0).
 */
function memoryInitModule(): Uint8Array<ArrayBuffer> {
  const name = (text: string) => [text.length, ...new TextEncoder().encode(text)];
  const i32 = 0x7f;
  const types = { id: SectionId.type, content: Uint8Array.of(2, 0x60, 3, i32, i32, i32, 0, 0x60, 0, 0) };
  const functions = { id: SectionId.function, content: Uint8Array.of(3, 0, 0, 1) };
  const exports = {
    id: SectionId.export,
    content: Uint8Array.of(
      4,
      ...name("memory"),
      2,
      0,
      ...name("init0"),
      0,
      0,
      ...name("init1"),
      0,
      1,
      ...name("drop0"),
      0,
      2,
    ),
  };
  const dataCount = { id: SectionId.dataCount, content: Uint8Array.of(2) };
  const init = (segment: number) => [0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfc, 8, segment, 0, 0x0b];
  const bodies = [init(0), init(1), [0, 0xfc, 9, 0, 0x0b]];
  const code = { id: SectionId.code, content: Uint8Array.of(3, ...bodies.flatMap((b) => [b.length, ...b])) };
  const data = { id: SectionId.data, content: Uint8Array.of(2, 0, 0x41, 16, 0x0b, 2, 0x68, 0x69, 1, 1, 0x70) };
  return writeModule([types, functions, memorySection, exports, dataCount, code, data]);
}

describe("detachActiveData", () => {
  it("makes active segments empty passive ones and returns them with their offsets", async () => {
    const { bytes, segments } = detachActiveData(moduleWith(true));
    expect(segments.map((s) => [s.offset, new TextDecoder().decode(s.bytes)])).toEqual([
      [16, "hi"],
      [200, "yo"],
    ]);
    const data = readSections(bytes).find((s) => s.id === SectionId.data);
    // Same count and indexes; the passive segment keeps its byte, the detached ones are empty.
    expect([...(data?.content ?? [])]).toEqual([3, 1, 0, 1, 1, 0x70, 1, 0]);

    const { instance } = await WebAssembly.instantiate(bytes);
    const memory = instance.exports.memory as WebAssembly.Memory;
    expect(new Uint8Array(memory.buffer).every((b) => b === 0)).toBe(true);
    applySegments(memory, segments);
    const view = new Uint8Array(memory.buffer);
    expect(new TextDecoder().decode(view.subarray(16, 18))).toBe("hi");
    expect(new TextDecoder().decode(view.subarray(200, 202))).toBe("yo");
  });

  it("leaves a module without data unchanged", () => {
    const original = moduleWith(false);
    const { bytes, segments } = detachActiveData(original);
    expect(segments).toEqual([]);
    expect([...bytes]).toEqual([...original]);
    expect([...bytes.subarray(0, 8)]).toEqual([...WASM_HEADER]);
  });

  it("refuses offsets it cannot evaluate", () => {
    const globalOffset = { id: SectionId.data, content: Uint8Array.of(1, 0, 0x23, 0, 0x0b, 0) };
    expect(() => detachActiveData(writeModule([memorySection, globalOffset]))).toThrow(/i32.const/);
  });

  it("refuses a data section that ends inside a segment", () => {
    const cut = { id: SectionId.data, content: Uint8Array.of(1, 0, 0x41, 16, 0x0b, 5, 0x68, 0x69) };
    expect(() => detachActiveData(writeModule([memorySection, cut]))).toThrow(/unexpected end/);
    const shortPassive = { id: SectionId.data, content: Uint8Array.of(2, 1, 1, 0x70, 1, 3) };
    expect(() => detachActiveData(writeModule([memorySection, shortPassive]))).toThrow(/unexpected end/);
  });

  it("leaves memory.init and data.drop behaving as in the original module once instantiated", async () => {
    // After instantiation an active segment has been applied and dropped: memory.init of 0 bytes
    // from it succeeds, of 1 byte traps. A passive segment can still be copied.
    const probe = async (bytes: Uint8Array<ArrayBuffer>) => {
      const { instance } = await WebAssembly.instantiate(bytes);
      const { init0, init1, drop0 } = instance.exports as Record<string, (...args: number[]) => void>;
      const memory = instance.exports.memory as WebAssembly.Memory;
      const outcome = (fn: () => void) => {
        try {
          fn();
          return "ok";
        } catch (error) {
          return error instanceof WebAssembly.RuntimeError ? "trap" : String(error);
        }
      };
      return {
        emptyCopy: outcome(() => init0?.(300, 0, 0)),
        oneByte: outcome(() => init0?.(300, 0, 1)),
        drop: outcome(() => drop0?.()),
        passive: outcome(() => init1?.(100, 0, 1)),
        byteAt100: new Uint8Array(memory.buffer)[100],
      };
    };
    const original = memoryInitModule();
    const expected = await probe(original);
    expect(expected).toEqual({ emptyCopy: "ok", oneByte: "trap", drop: "ok", passive: "ok", byteAt100: 0x70 });
    expect(await probe(detachActiveData(original).bytes)).toEqual(expected);
  });
});

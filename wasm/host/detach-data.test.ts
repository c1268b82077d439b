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

describe("detachActiveData", () => {
  it("makes active segments passive and returns them with their offsets", async () => {
    const { bytes, segments } = detachActiveData(moduleWith(true));
    expect(segments.map((s) => [s.offset, new TextDecoder().decode(s.bytes)])).toEqual([
      [16, "hi"],
      [200, "yo"],
    ]);
    const data = readSections(bytes).find((s) => s.id === SectionId.data);
    expect([...(data?.content ?? [])]).toEqual([3, 1, 2, 0x68, 0x69, 1, 1, 0x70, 1, 2, 0x79, 0x6f]);

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
});

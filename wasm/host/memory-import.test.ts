import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { importMemory, readMemoryLimits } from "./memory-import.js";
import { encodeU32, Reader, readSections, SectionId, WasmFormatError } from "./wasm-binary.js";
import { tinyExports, tinyModule } from "./wasm-test-modules.js";

describe("LEB128", () => {
  it.each([0, 1, 127, 128, 300, 16_384, 624_485, 0xffff_ffff])("round-trips %i", (n) => {
    const bytes = Uint8Array.from(encodeU32(n));
    const r = new Reader(bytes);
    expect(r.u32()).toBe(n);
    expect(r.done).toBe(true);
  });

  it("encodes 624485 as the spec example", () => {
    expect(encodeU32(624_485)).toEqual([0xe5, 0x8e, 0x26]);
  });

  it("rejects overlong and out-of-range values", () => {
    expect(() => new Reader(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)).u32()).toThrow(WasmFormatError);
    expect(() => new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x7f)).u32()).toThrow(WasmFormatError);
    expect(() => new Reader(Uint8Array.of(0x80)).u32()).toThrow(WasmFormatError);
    expect(() => encodeU32(-1)).toThrow(WasmFormatError);
  });
});

describe("importMemory on a hand-written module", () => {
  it("turns the defined memory into env.memory and keeps the export", async () => {
    const original = tinyModule(4);
    const result = importMemory(original);
    expect(result.minimumPages).toBe(1);
    expect(result.maximumPages).toBe(4);
    expect(result.memoryImport).toEqual({ module: "env", name: "memory" });
    const module = await WebAssembly.compile(result.bytes as Uint8Array<ArrayBuffer>);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: "env", name: "memory", kind: "memory" }]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toContain("memory");
    expect(readSections(result.bytes).some((s) => s.id === SectionId.memory)).toBe(false);

    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const ex = tinyExports(instance);
    expect(ex.memory).toBe(memory);
    expect(ex.peek(16)).toBe(0x68); // the data segment went into our memory
    expect(ex.grow(1)).toBe(1);
    expect(ex.grow(1)).toBe(-1); // the host's maximum, not the module's (4), applies
    expect(ex.size()).toBe(2);
  });

  it("gives one compiled module a different cap per instance", async () => {
    const module = await WebAssembly.compile(importMemory(tinyModule(null)).bytes as Uint8Array<ArrayBuffer>);
    const small = tinyExports(
      await WebAssembly.instantiate(module, { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1 }) } }),
    );
    const large = tinyExports(
      await WebAssembly.instantiate(module, { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 8 }) } }),
    );
    expect(small.grow(1)).toBe(-1);
    expect(large.grow(7)).toBe(1);
    expect(large.size()).toBe(8);
  });

  it("leaves a module that already imports its memory unchanged", () => {
    const once = importMemory(tinyModule(4));
    const twice = importMemory(once.bytes);
    expect(twice.bytes).toBe(once.bytes);
    expect(twice.minimumPages).toBe(1);
    expect(readMemoryLimits(once.bytes)).toEqual({ min: 1, max: null, shared: false });
  });

  it("refuses bytes that are not a module", () => {
    expect(() => importMemory(Uint8Array.of(1, 2, 3))).toThrow(WasmFormatError);
  });
});

describe("importMemory on ruby+stdlib.wasm", () => {
  it("produces a valid module that imports its memory and still exports it", async () => {
    const path = createRequire(import.meta.url).resolve("@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm");
    const original = new Uint8Array(readFileSync(path));
    const result = importMemory(original);
    expect(result.minimumPages).toBeGreaterThan(100);
    expect(readMemoryLimits(original)?.min).toBe(result.minimumPages);
    const module = await WebAssembly.compile(result.bytes as Uint8Array<ArrayBuffer>);
    const memoryImports = WebAssembly.Module.imports(module).filter((i) => i.kind === "memory");
    expect(memoryImports).toEqual([{ module: "env", name: "memory", kind: "memory" }]);
    expect(WebAssembly.Module.exports(module)).toContainEqual({ name: "memory", kind: "memory" });
  }, 60_000);
});

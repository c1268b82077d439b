/**
 * The seed image's plain form (seed-image.ts): what load() posts to the workers survives a
 * structured clone whole, and anything but exactly that form is refused before it reaches a clone.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { QUICKJS_VERSION } from "./instance.js";
import { buildSeedImage, InstanceSeed } from "./instance-seed.js";
import { type PlainSeedImage, type SeedImage, seedImageFromPlain, seedImageToPlain } from "./seed-image.js";
import { javascriptRuntime } from "./wasm.js";

let wasmModule: WebAssembly.Module;
let image: SeedImage;

beforeAll(async () => {
  const assets = await javascriptRuntime.load();
  if (!(assets.module instanceof WebAssembly.Module)) throw new Error("no module");
  wasmModule = assets.module;
  image = await buildSeedImage(wasmModule);
});

const memoryOf = (image: SeedImage): Uint8Array => {
  const memory = new WebAssembly.Memory({ initial: image.memory.memoryBytes / 65_536 });
  image.memory.applyTo(memory);
  return new Uint8Array(memory.buffer);
};

describe("the seed image's plain form", () => {
  it("survives a structured clone: the same addresses, ids and memory", () => {
    const plain = seedImageToPlain(image);
    expect(plain.format).toBe(1);
    expect(plain.quickjsVersion).toBe(QUICKJS_VERSION);
    const back = seedImageFromPlain(structuredClone(plain));
    const { memory: _a, ...addresses } = image;
    const { memory: _b, ...backAddresses } = back;
    expect(backAddresses).toEqual(addresses);
    expect(back.memory.memoryBytes).toBe(image.memory.memoryBytes);
    expect(Buffer.compare(memoryOf(back), memoryOf(image))).toBe(0);
  });

  it("is what load() posts, and a seed taken from it clones", async () => {
    const assets = await javascriptRuntime.load();
    const seed = await InstanceSeed.fromImage(wasmModule, seedImageFromPlain(structuredClone(assets.seed)));
    const clone = await seed.clone(64 * 1024 * 1024);
    expect(clone.memory.buffer.byteLength).toBe(seed.image.memory.memoryBytes);
    expect(clone.start.alive).toBe(true);
  });

  const tampered: [string, (plain: PlainSeedImage) => unknown, RegExp][] = [
    ["not an object", () => [], /not an object/],
    ["an extra field", (p) => ({ ...p, extra: 1 }), /unexpected fields/],
    ["a missing field", ({ exitCode: _, ...rest }) => rest, /unexpected fields/],
    ["another format", (p) => ({ ...p, format: 2 }), /format 2/],
    ["another QuickJS version", (p) => ({ ...p, quickjsVersion: "2020-01-01" }), /built for QuickJS 2020-01-01/],
    ["a null pointer", (p) => ({ ...p, ctx: 0 }), /ctx is not a pointer/],
    ["a pointer past the memory", (p) => ({ ...p, start: p.memory.memoryBytes }), /start is not a pointer/],
    ["a pointer that is not an integer", (p) => ({ ...p, timerFire: 1.5 }), /timerFire is not a pointer/],
    ["a pointer of another type", (p) => ({ ...p, exitCode: String(p.exitCode) }), /exitCode is not a pointer/],
    ["no host function ids", (p) => ({ ...p, hostFunctionIds: [] }), /hostFunctionIds/],
    ["a host function id beyond 32 bits", (p) => ({ ...p, hostFunctionIds: [2 ** 31] }), /32-bit/],
    ["a host function id of another type", (p) => ({ ...p, hostFunctionIds: ["1"] }), /32-bit/],
    ["a malformed memory", (p) => ({ ...p, memory: { ...p.memory, data: p.memory.data.subarray(1) } }), /data holds/],
  ];

  it.each(tampered)("refuses %s", (_name, tamper, message) => {
    expect(() => seedImageFromPlain(tamper(seedImageToPlain(image)))).toThrow(message);
    expect(() => seedImageFromPlain(seedImageToPlain(image))).not.toThrow();
  });
});

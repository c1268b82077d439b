/**
 * Instances cloned from a seed (instance-seed.ts): a clone is the seed byte for byte, behaves like
 * an instance prepared from nothing, shares no random state with its siblings, and a clone whose
 * engine or host functions do not match its seed is refused.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { NO_NETWORK_REPLY } from "../../src/sandbox/host-call.js";
import { DEFAULT_LIMITS, type Limits } from "../../src/sandbox/limits.js";
import { allocateSharedOutput, readSharedOutput, SharedOutputSink } from "../../src/sandbox/wasm/shared-output.js";
import { createTestRunner, request, runInProcess } from "../../test/support/wasm-runner.js";
import { Execution } from "./execution.js";
import { type PreparedInstance, prepareInstance } from "./instance.js";
import { cloneImage, InstanceSeed, SeedTooLargeError } from "./instance-seed.js";
import { QuickJSLoader } from "./quickjs-loader.js";
import { javascriptRuntime } from "./wasm.js";

const MiB = 1024 * 1024;
const LIMIT = DEFAULT_LIMITS.memoryLimitBytes;

let wasmModule: WebAssembly.Module;
let seed: InstanceSeed;
let seedMemory: Uint8Array;
let loader: QuickJSLoader;

beforeAll(async () => {
  const assets = await javascriptRuntime.load();
  if (!(assets.module instanceof WebAssembly.Module)) throw new Error("no module");
  wasmModule = assets.module;
  seed = await InstanceSeed.create(wasmModule, (memory) => {
    seedMemory = new Uint8Array(memory.buffer).slice();
  });
  loader = await QuickJSLoader.create(wasmModule);
});

function runIn(instance: PreparedInstance, code: string, limits: Partial<Limits> = {}) {
  const merged: Limits = { ...DEFAULT_LIMITS, ...limits };
  const out = allocateSharedOutput(merged.maxOutputBytes);
  const err = allocateSharedOutput(merged.maxOutputBytes);
  const outcome = new Execution(instance, request("javascript", code, { args: ["a1"], env: { K: "v" } }), {
    limits: merged,
    deadline: Date.now() + merged.timeoutMs,
    stdout: new SharedOutputSink(out, 0),
    stderr: new SharedOutputSink(err, 0),
    cancelled: () => false,
    http: () => NO_NETWORK_REPLY,
  }).run();
  return { ...outcome, stdout: readSharedOutput(out, 0).text, stderr: readSharedOutput(err, 0).text };
}

const PROBE = `
const fs = require("fs");
fs.writeFileSync("out.txt", "x");
setTimeout(() => console.log("timer", typeof __host, process.argv.slice(2).join(","), process.env.K), 1);
Promise.resolve().then(() => console.log("job", new TextDecoder().decode(new TextEncoder().encode("é"))));
console.log("main", fs.readdirSync(".").sort().join(","), typeof fetch);
`;

describe("a clone of the seed", () => {
  it("holds exactly the seed's memory, and copies only a small part of it", async () => {
    const clone = await seed.clone(LIMIT);
    const cloned = new Uint8Array(clone.memory.buffer);
    expect(cloned.byteLength).toBe(seedMemory.byteLength);
    expect(Buffer.compare(cloned, seedMemory)).toBe(0);
    expect(seed.image.memory.copiedBytes).toBeLessThan(2 * MiB);
    expect(clone.memory.buffer.byteLength).toBeLessThan(LIMIT);
  });

  it("runs a program like an instance prepared from nothing", async () => {
    const fresh = runIn(await prepareInstance(loader, LIMIT), PROBE);
    const cloned = runIn(await seed.clone(LIMIT), PROBE);
    expect(fresh.stdout).toBe("main main.js,out.txt function\njob é\ntimer undefined a1 v\n");
    expect(cloned).toEqual(fresh);
  });

  it("sees its own Math.random stream and crypto bytes, not a sibling's", async () => {
    const code = `console.log(JSON.stringify([Math.random(), Math.random(), Array.from(crypto.getRandomValues(new Uint8Array(16))), crypto.randomUUID()]));`;
    const [a, b] = [runIn(await seed.clone(LIMIT), code), runIn(await seed.clone(LIMIT), code)];
    const [ra, rb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)] as [unknown[], unknown[]];
    expect(ra).toHaveLength(4);
    for (let i = 0; i < 4; i++) expect(ra[i]).not.toEqual(rb[i]);
    expect(typeof ra[0]).toBe("number");
  });

  it("starts from the seed, not from what an earlier clone did", async () => {
    const first = runIn(
      await seed.clone(LIMIT),
      "globalThis.leak = 1; Object.prototype.polluted = 2; console.log('set');",
    );
    expect(first.stdout).toBe("set\n");
    const second = runIn(await seed.clone(LIMIT), "console.log(typeof leak, ({}).polluted);");
    expect(second.stdout).toBe("undefined undefined\n");
  });

  it("on a recycled memory: the seed's bytes exactly, nothing of the earlier run, its own random stream", async () => {
    const code =
      "globalThis.leak = 1; Object.prototype.polluted = 2; new Uint8Array(4 * 1024 * 1024).fill(7); console.log(Math.random());";
    const used = await seed.clone(LIMIT);
    const first = runIn(used, code);
    expect(used.memory.buffer.byteLength).toBe(seedMemory.byteLength);
    // And whatever else a guest may have left anywhere in the memory.
    new Uint8Array(used.memory.buffer).fill(0xab, seedMemory.byteLength - MiB);
    const before = seed.recycled;
    seed.recycle(used.memory, LIMIT);
    const reused = await seed.clone(LIMIT);
    expect(seed.recycled).toBe(before + 1);
    expect(reused.memory).toBe(used.memory);
    expect(Buffer.compare(new Uint8Array(reused.memory.buffer), seedMemory)).toBe(0);
    const second = runIn(reused, "console.log(typeof leak, ({}).polluted, Math.random());");
    const [leak, polluted, random] = second.stdout.trim().split(" ");
    expect([leak, polluted]).toEqual(["undefined", "undefined"]);
    expect(random).not.toBe(first.stdout.trim());
  });

  it("does not reuse a memory that grew, or one made for another limit", async () => {
    const grown = await seed.clone(LIMIT);
    grown.memory.grow(1);
    seed.recycle(grown.memory, LIMIT);
    expect((await seed.clone(LIMIT)).memory).not.toBe(grown.memory);
    const other = await seed.clone(LIMIT);
    seed.recycle(other.memory, LIMIT);
    expect((await seed.clone(2 * LIMIT)).memory).not.toBe(other.memory);
  });

  it("stops at a 16 MiB memory limit with MEMORY_LIMIT, and the next clone still runs", async () => {
    const hog = runIn(await seed.clone(16 * MiB), "const a = []; for (;;) a.push(new Array(1000).fill(1));", {
      memoryLimitBytes: 16 * MiB,
    });
    expect(hog.error?.code).toBe("MEMORY_LIMIT");
    expect(runIn(await seed.clone(16 * MiB), "console.log(1)").stdout).toBe("1\n");
  });
});

describe("refusals", () => {
  // (The context is not created in a clone but wrapped at the seed's pointer: nothing to compare.)
  it("refuses a seed whose runtime address differs from the clone's", async () => {
    await expect(cloneImage(loader, { ...seed.image, rt: seed.image.rt + 8 }, LIMIT)).rejects.toThrow(
      /does not match its seed/,
    );
  });

  it("refuses a seed whose host function ids differ from the clone's", async () => {
    const ids = seed.image.hostFunctionIds;
    const shifted = ids.map((id) => id + 1);
    await expect(cloneImage(loader, { ...seed.image, hostFunctionIds: shifted }, LIMIT)).rejects.toThrow(
      /host function id mismatch/,
    );
    await expect(cloneImage(loader, { ...seed.image, hostFunctionIds: ids.slice(1) }, LIMIT)).rejects.toThrow(
      /host function count mismatch/,
    );
  });

  it("refuses a memory limit smaller than the seed's memory", async () => {
    await expect(seed.clone(8 * MiB)).rejects.toBeInstanceOf(SeedTooLargeError);
  });

  it("answers a limit smaller than the seed's memory with MEMORY_LIMIT through the runner", async () => {
    const runner = await createTestRunner(javascriptRuntime);
    const small = await runInProcess(runner, request("javascript", "console.log(1)"), { memoryLimitBytes: 8 * MiB });
    expect(small.exitCode).toBeNull();
    expect(small.error?.code).toBe("MEMORY_LIMIT");
    expect(small.files.map((f) => f.path)).toEqual(["main.js"]);
    const fine = await runInProcess(runner, request("javascript", "console.log(1)"), { memoryLimitBytes: 16 * MiB });
    expect(fine.stdout).toBe("1\n");
  });
});

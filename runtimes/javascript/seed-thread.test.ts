/**
 * The seed is built in one thread (the loader's `load()`) and cloned in others (each worker's
 * `createRunner()`): the image must fit another thread's engine, its clones must run code like any
 * instance, and every execution must get its own random streams.
 */
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RuntimeAssets } from "../../src/sandbox/wasm/runtime.js";
import type { PlainSeedImage } from "./seed-image.js";
import type { HarnessReply, HarnessRequest } from "./seed-thread-harness.js";

const workers: Worker[] = [];

/** A new thread running seed-thread-harness.ts (through tsx, as spawn-worker.ts does under tests). */
function inThread(message: HarnessRequest): Promise<HarnessReply> {
  const tsx = import.meta.resolve("tsx/esm/api");
  const source = new URL("./seed-thread-harness.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(source)}); });`;
  const worker = new Worker(bootstrap, { eval: true });
  workers.push(worker);
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.postMessage(message);
  });
}

async function loadInThread(): Promise<RuntimeAssets> {
  const reply = await inThread({ kind: "load" });
  if (!("assets" in reply)) throw new Error(`load failed: ${"error" in reply ? reply.error : "no assets"}`);
  return reply.assets;
}

const RANDOM = `console.log(JSON.stringify([Math.random(), Math.random(), Array.from(crypto.getRandomValues(new Uint8Array(16))), crypto.randomUUID()]));`;
const PROBE = `
const fs = require("fs");
fs.writeFileSync("out.txt", "x");
setTimeout(() => console.log("timer", typeof __host, process.argv.slice(2).join(","), process.env.K), 1);
Promise.resolve().then(() => console.log("job", new TextDecoder().decode(new TextEncoder().encode("é"))));
console.log("main", fs.readdirSync(".").sort().join(","), typeof fetch);
`;

let assets: RuntimeAssets;

beforeAll(async () => {
  assets = await loadInThread();
});

afterAll(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
});

describe("a seed built in another thread", () => {
  it("arrives with its memory's bytes in shared memory", () => {
    const seed = assets.seed as PlainSeedImage;
    expect(seed.memory.data.byteLength).toBeGreaterThanOrEqual(64 * 1024);
    expect(seed.memory.data.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("is cloned in two other threads, whose clones run code and each draw their own random streams", async () => {
    const codes = [PROBE, RANDOM, RANDOM];
    const [b, c] = await Promise.all([
      inThread({ kind: "run", assets, codes }),
      inThread({ kind: "run", assets, codes }),
    ]);
    const randoms: unknown[][] = [];
    for (const reply of [b, c]) {
      if (!("results" in reply)) throw new Error(`run failed: ${"error" in reply ? reply.error : "no results"}`);
      const [probe, ...random] = reply.results;
      expect(probe?.error).toBeUndefined();
      expect(probe?.stdout).toBe("main main.js,out.txt function\njob é\ntimer undefined a1 v\n");
      expect(probe?.files.map((f) => f.path).sort()).toEqual(["main.js", "out.txt"]);
      for (const result of random) randoms.push(JSON.parse(result.stdout) as unknown[]);
    }
    expect(randoms).toHaveLength(4);
    // Every value (two Math.random draws, crypto bytes, a UUID) differs across all four executions.
    for (let field = 0; field < 4; field++) {
      const values = randoms.map((r) => JSON.stringify(r[field]));
      expect(new Set(values).size).toBe(4);
    }
  });

  it("fails the runner, with a clear message, when the image does not fit the thread's engine", async () => {
    const seed = assets.seed as PlainSeedImage;
    const reply = await inThread({ kind: "run", assets: { ...assets, seed: { ...seed, rt: seed.rt + 8 } }, codes: [] });
    expect("error" in reply && reply.error).toMatch(
      /cannot clone the seed image from load\(\) in this worker \(.*does not match its seed\)/,
    );
  });

  it("refuses a tampered image before cloning anything", async () => {
    const seed = assets.seed as PlainSeedImage;
    const reply = await inThread({ kind: "run", assets: { ...assets, seed: { ...seed, rt: 0 } }, codes: [] });
    expect("error" in reply && reply.error).toMatch(/invalid seed image: rt is not a pointer/);
  });
});

/**
 * A worker-thread entry for seed-thread.test.ts: one thread builds the seed (`load()`), others take
 * its image and run code in clones of it (`createRunner()`), as the loader thread and the pool's
 * workers do. Answers one message: `{ kind: "load" }` with the assets, `{ kind: "run", assets,
 * codes }` with each code's result in a runner of its own thread, or `{ error }`.
 */
import { parentPort } from "node:worker_threads";
import type { RuntimeAssets } from "../../src/sandbox/wasm/runtime.js";
import { type InProcessResult, request, runInProcess } from "../../test/support/wasm-runner.js";
import { javascriptRuntime } from "./wasm.js";

export type HarnessRequest =
  | { readonly kind: "load" }
  | { readonly kind: "run"; readonly assets: RuntimeAssets; readonly codes: readonly string[] };

export type HarnessReply =
  | { readonly assets: RuntimeAssets; readonly ms: number }
  | { readonly results: readonly InProcessResult[]; readonly createRunnerMs: number }
  | { readonly error: string };

const port = parentPort;
if (!port) throw new Error("seed-thread-harness must run in a worker thread");

async function answer(message: HarnessRequest): Promise<HarnessReply> {
  const started = performance.now();
  if (message.kind === "load") {
    const assets = await javascriptRuntime.load();
    return { assets, ms: performance.now() - started };
  }
  const runner = await javascriptRuntime.createRunner(message.assets);
  const createRunnerMs = performance.now() - started;
  const results: InProcessResult[] = [];
  for (const code of message.codes) {
    results.push(await runInProcess(runner, request("javascript", code, { args: ["a1"], env: { K: "v" } })));
  }
  return { results, createRunnerMs };
}

port.once("message", (message: HarnessRequest) => {
  answer(message).then(
    (reply) => port.postMessage(reply),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) }),
  );
});

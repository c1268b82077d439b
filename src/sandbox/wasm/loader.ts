/**
 * Worker entry that loads one language runtime (compile modules, boot and snapshot an interpreter)
 * off the main thread, so the server keeps answering /healthz and /readyz while runtimes load, and
 * languages load in parallel. Posts the assets (structured-cloneable) back and is then terminated.
 */
import { parentPort } from "node:worker_threads";
import { WASM_RUNTIMES } from "../../../runtimes/wasm-runtimes.js";
import { type BootCacheLogRecord, configureBootCache, settleBootCacheWrites } from "./boot-cache.js";
import type { LoaderReply, LoaderRequest } from "./load-runtime.js";

const port = parentPort;
if (!port) throw new Error("the runtime loader must run in a worker thread");

port.once("message", async ({ language, snapshotCacheDir }: LoaderRequest) => {
  // The snapshot cache's records go back with the reply, for the server's log.
  const log: BootCacheLogRecord[] = [];
  configureBootCache(snapshotCacheDir, (record) => log.push(record));
  let reply: LoaderReply;
  try {
    const load = WASM_RUNTIMES[language];
    if (!load) throw new Error("no WebAssembly runtime for this language yet");
    const runtime = await load();
    const assets = await runtime.load();
    reply = { ok: true, assets, info: { name: runtime.info.name, version: runtime.info.version } };
  } catch (error) {
    reply = { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  // This worker is terminated once it replied: a cache file still being written would be lost.
  await settleBootCacheWrites();
  port.postMessage(log.length > 0 ? { ...reply, bootCacheLog: log } : reply);
});

/**
 * Worker entry that loads language runtimes (compile modules, boot and snapshot an interpreter) off
 * the main thread, so the server keeps answering /healthz and /readyz while runtimes load. One
 * loader thread serves every language of a sandbox: the loads are mostly waiting (boot processes,
 * asynchronous compiles) and run concurrently in it, and one thread's start instead of one per
 * language saves ~0.3 s of CPU when the cores are busiest (measured: four loader threads importing
 * their runtime 490 ms, one importing all four 175 ms). Posts each language's assets
 * (structured-cloneable) back under the request's id; terminated once every load replied.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { parentPort } from "node:worker_threads";
import { PRESTARTED_BOOTS } from "../../../runtimes/boot-entries.js";
import { WASM_RUNTIMES } from "../../../runtimes/wasm-runtimes.js";
import { type BootCacheLogRecord, configureBootCache, settleBootCacheWrites } from "./boot-cache.js";
import { limitBootProcesses, prestartBootProcess, sweepStaleSpillDirs } from "./boot-process.js";
import type { LoaderData, LoaderInbound, LoaderMessage, LoaderReply, LoaderRequest } from "./load-runtime.js";

const port = parentPort;
if (!port) throw new Error("the runtime loader must run in a worker thread");

// The snapshot cache's records go back with the reply of the load they happened in, for the server's
// log; those of no load (opening the cache directory) with every reply, as each language's own.
const currentLog = new AsyncLocalStorage<BootCacheLogRecord[]>();
const unscoped: BootCacheLogRecord[] = [];

// Boot replies a server that died mid-start left in the temp directory (boot-process.ts).
void sweepStaleSpillDirs();

/** The first message: the snapshot cache and the boot limit, before any load. */
function configure(data: LoaderData): void {
  configureBootCache(data.snapshotCacheDir, (record) => (currentLog.getStore() ?? unscoped).push(record));
  if (data.bootConcurrency !== undefined) limitBootProcesses(data.bootConcurrency);
}

async function load(language: LoaderRequest["language"]): Promise<LoaderReply> {
  try {
    const runtimeOf = WASM_RUNTIMES[language];
    if (!runtimeOf) throw new Error("no WebAssembly runtime for this language yet");
    const runtime = await runtimeOf();
    const assets = await runtime.load();
    return { ok: true, assets, info: { name: runtime.info.name, version: runtime.info.version } };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

port.on("message", (message: LoaderInbound) => {
  if (message.kind === "configure") return configure(message.data);
  const { id, language } = message;
  const log: BootCacheLogRecord[] = [];
  void currentLog.run(log, async () => {
    // The boot process starts while the runtime's modules are imported (see boot-entries.ts).
    const boot = PRESTARTED_BOOTS[language];
    if (boot) prestartBootProcess(boot);
    const reply = await load(language);
    // This worker is terminated once every load replied: a cache file still being written would be lost.
    await settleBootCacheWrites();
    const records = [...unscoped, ...log];
    const answer: LoaderMessage = { id, reply: records.length > 0 ? { ...reply, bootCacheLog: records } : reply };
    port.postMessage(answer);
  });
});

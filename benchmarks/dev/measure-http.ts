/**
 * Warm starts over HTTP against the compiled server (run `npm run build` first, then
 * `npx tsx benchmarks/dev/measure-http.ts [languages...]`). Environment: RUNS, WARMUP, WORKERS,
 * LOG_LEVEL; ROOT=<checkout> to run another checkout's dist/; SERVER_ENV='{"NAME":"value"}' for
 * more server environment (e.g. glibc's MALLOC_ARENA_MAX); STORE_SYNC=full|normal; CPU_PROF=<dir>
 * to start the server under `node --cpu-prof`; NODE_ARGS='--flag ...' for more node flags;
 * GAP_MS=<ms> to pause that long after each execution of a series (what
 * an execution costs when the previous one's aftermath, e.g. the next spare, is over); RSS_STEPS=1000,2000 to also run that many more executions in total (alternating languages, 8
 * concurrent clients; RSS_CLIENTS changes the 8) and read the server's RSS after each step and where
 * it sits (malloc heap, other anonymous memory, files). Prints one JSON object: p50/p90/p99 of client
 * wall time and of the server's `durationMs` per language, the server's CPU per execution (main
 * thread, busiest other threads, total; from /proc, 10 ms ticks), the same for the time threads
 * waited for a core (`runQueueMsPerRun`, from schedstat), the load average, and RSS readings. A
 * development tool, not the benchmark harness (benchmarks/run.ts owns that).
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { LANGUAGES, type Language } from "../../src/sandbox/types.js";
import { SpawnedServer } from "../lib/server.js";
import { percentile, round } from "../lib/stats.js";

const RUNS = Number(process.env.RUNS ?? 200);
const WARMUP = Number(process.env.WARMUP ?? 30);
const WORKERS = process.env.WORKERS === undefined ? undefined : Number(process.env.WORKERS);
const RSS_STEPS = (process.env.RSS_STEPS ?? "")
  .split(",")
  .filter((s) => s !== "")
  .map(Number);
const RSS_CLIENTS = Number(process.env.RSS_CLIENTS ?? 8);
const GAP_MS = Number(process.env.GAP_MS ?? 0);
const MiB = 1024 * 1024;

/**
 * RSS by kind of mapping, from /proc/<pid>/smaps (MiB): glibc's main-arena `[heap]`, other anonymous
 * memory (V8 heaps, wasm linear memories, thread malloc arenas, SharedArrayBuffers) and files.
 */
function rssByMapping(pid: number): Record<string, number> {
  const kb = { heap: 0, anonymous: 0, files: 0 };
  let kind: keyof typeof kb = "anonymous";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header) {
      kind = header[2] === "[heap]" ? "heap" : header[1] === "0" ? "anonymous" : "files";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kb[kind] += Number(rss[1]);
  }
  return {
    heapMiB: Math.round(kb.heap / 1024),
    anonymousMiB: Math.round(kb.anonymous / 1024),
    filesMiB: Math.round(kb.files / 1024),
  };
}

/** p50/p90/p99 (nearest rank); zeros when there are no values (a server that reports no durationMs). */
function summary(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? 0 : round(percentile(sorted, p)));
  return { p50: at(50), p90: at(90), p99: at(99) };
}

/** CPU time (ms) of each thread of `pid` so far, by thread id, from /proc (10 ms clock ticks). */
function threadCpuMs(pid: number): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
        .replace(/^.*\) /, "")
        .split(" ");
      cpu.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return cpu;
}

/**
 * Time each thread of `pid` has waited on a run queue so far (ms, by thread id): ready to run but
 * not running, from /proc/<pid>/task/<tid>/schedstat (the kernel's run_delay, in ns).
 */
function threadRunDelayMs(pid: number): Map<number, number> {
  const delay = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ");
      delay.set(Number(tid), Number(fields[1]) / 1e6);
    } catch {
      // The thread ended meanwhile, or the kernel keeps no schedstats.
    }
  }
  return delay;
}

/**
 * Per execution, from two per-thread readings (CPU or run-queue wait, ms): the server's main thread,
 * its busiest other threads and the total.
 */
function perRun(pid: number, before: Map<number, number>, after: Map<number, number>, runs: number) {
  const per = (tid: number) => Math.round((((after.get(tid) ?? 0) - (before.get(tid) ?? 0)) / runs) * 1000) / 1000;
  const others = [...after.keys()].filter((tid) => tid !== pid).map(per);
  return {
    main: per(pid),
    otherThreads: others.sort((a, b) => b - a).slice(0, 4),
    total: Math.round((per(pid) + others.reduce((a, b) => a + b, 0)) * 1000) / 1000,
  };
}

async function series(server: SpawnedServer, language: Language, runs: number) {
  const cpuBefore = threadCpuMs(server.pid);
  const delayBefore = threadRunDelayMs(server.pid);
  const client: number[] = [];
  const inner: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await server.printOne(language);
    if (!result.ok) throw new Error(`${language}: ${result.failure ?? "failed"}`);
    client.push(result.ms);
    if (result.innerMs !== undefined) inner.push(result.innerMs);
    if (GAP_MS > 0) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
  }
  const cpuMsPerRun = perRun(server.pid, cpuBefore, threadCpuMs(server.pid), runs);
  const runQueueMsPerRun = perRun(server.pid, delayBefore, threadRunDelayMs(server.pid), runs);
  return { client: summary(client), sandbox: summary(inner), cpuMsPerRun, runQueueMsPerRun };
}

/** `total` executions, `clients` at a time, languages in turn. */
async function load(server: SpawnedServer, languages: readonly Language[], total: number, clients: number) {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const language = languages[next++ % languages.length] as Language;
      const result = await server.printOne(language);
      if (!result.ok) throw new Error(`${language}: ${result.failure ?? "failed"}`);
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
}

const wanted = process.argv.slice(2).filter((a): a is Language => (LANGUAGES as readonly string[]).includes(a));
const languages = wanted.length > 0 ? wanted : [...LANGUAGES];
const profileDir = process.env.CPU_PROF;
const { server } = await SpawnedServer.start({
  mainScript: join(process.env.ROOT ?? join(import.meta.dirname, "../.."), "dist/src/main.js"),
  logLevel: process.env.LOG_LEVEL ?? "info",
  ...(WORKERS === undefined ? {} : { workers: WORKERS }),
  env: {
    ...(JSON.parse(process.env.SERVER_ENV ?? "{}") as Record<string, string>),
    ...(process.env.STORE_SYNC ? { SANDBOX_STORE_SYNC: process.env.STORE_SYNC } : {}),
  },
  nodeArgs: [
    ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
    ...(process.env.NODE_ARGS ?? "").split(" ").filter((a) => a !== ""),
  ],
});
const report: Record<string, unknown> = {
  runs: RUNS,
  storeSync: process.env.STORE_SYNC ?? "(default)",
  loadBefore: loadavg().map((l) => Math.round(l * 100) / 100),
  rssReadyMiB: Math.round(server.rssBytes() / MiB),
};
try {
  for (const language of languages) {
    await series(server, language, WARMUP);
    report[language] = await series(server, language, RUNS);
  }
  report.rssAfterWarmMiB = Math.round(server.rssBytes() / MiB);
  report.rssAfterWarmByMapping = rssByMapping(server.pid);
  let done = 0;
  const rss: Record<string, number> = {};
  for (const step of RSS_STEPS) {
    await load(server, languages, step - done, RSS_CLIENTS);
    done = step;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    rss[String(step)] = Math.round(server.rssBytes() / MiB);
    process.stderr.write(
      `after ${step} more executions: RSS ${rss[String(step)]} MiB ${JSON.stringify(rssByMapping(server.pid))}\n`,
    );
  }
  if (RSS_STEPS.length > 0) report.rssAfterMoreMiB = rss;
  report.loadAfter = loadavg().map((l) => Math.round(l * 100) / 100);
} finally {
  await server.stop({ keepLog: profileDir !== undefined });
}
process.stdout.write(`${JSON.stringify(report)}\n`);

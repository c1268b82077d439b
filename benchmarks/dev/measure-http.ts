/**
 * Warm starts over HTTP against the compiled server (run `npm run build` first, then
 * `npx tsx benchmarks/dev/measure-http.ts [languages...]`; env RUNS, WARMUP, WORKERS, LOG_LEVEL,
 * ROOT=<checkout> to run another checkout's dist/, SERVER_ENV='{"NAME":"value"}' for more server
 * environment (e.g. glibc's MALLOC_ARENA_MAX), STORE_SYNC=full|normal, CPU_PROF=<dir> to start the server under `node --cpu-prof`, RSS_STEPS=1000,2000
 * to also run that many more executions in total (alternating languages, 8 concurrent clients) and read
 * the server's RSS after each step; RSS_CLIENTS changes the 8) and where the RSS sits (malloc heap,
 * other anonymous memory, files). Prints one JSON object: p50/p90/p99 of client wall time and of the
 * server's `durationMs` per language, the load average, and RSS readings. A development tool, not the
 * benchmark harness (benchmarks/run.ts owns that).
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { LANGUAGES, type Language } from "../../src/sandbox/types.js";
import { SpawnedServer } from "../lib/server.js";

const RUNS = Number(process.env.RUNS ?? 200);
const WARMUP = Number(process.env.WARMUP ?? 30);
const WORKERS = process.env.WORKERS === undefined ? undefined : Number(process.env.WORKERS);
const RSS_STEPS = (process.env.RSS_STEPS ?? "")
  .split(",")
  .filter((s) => s !== "")
  .map(Number);
const RSS_CLIENTS = Number(process.env.RSS_CLIENTS ?? 8);
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

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1));
  return Math.round((sorted[at] ?? 0) * 100) / 100;
}

const summary = (values: readonly number[]) => ({
  p50: percentile(values, 50),
  p90: percentile(values, 90),
  p99: percentile(values, 99),
});

async function series(server: SpawnedServer, language: Language, runs: number) {
  const client: number[] = [];
  const inner: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await server.printOne(language);
    if (!result.ok) throw new Error(`${language}: ${result.failure ?? "failed"}`);
    client.push(result.ms);
    if (result.innerMs !== undefined) inner.push(result.innerMs);
  }
  return { client: summary(client), sandbox: summary(inner) };
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
  ...(profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}),
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

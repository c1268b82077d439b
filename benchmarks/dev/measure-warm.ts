/**
 * Measures warm starts through WasmSandbox, in process (run: `npx tsx benchmarks/dev/measure-warm.ts
 * [languages...]`, env RUNS, WORKERS, GAP_MS): for each language, `print(1)`-class code run
 * sequentially with a small gap between requests and back to back, p50/p90 of the time
 * `execute()` took, and the RSS the idle spares cost. Prints one JSON object. A development tool, not
 * the benchmark harness (benchmarks/ owns that).
 */
import { silentLogger } from "../../src/logger.js";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import { LANGUAGES, type Language } from "../../src/sandbox/types.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";

const PRINT_ONE: Readonly<Record<Language, string>> = {
  javascript: "console.log(1)",
  python: "print(1)",
  ruby: "puts 1",
  bash: "echo 1",
};

const RUNS = Number(process.env.RUNS ?? 100);
const WORKERS = Number(process.env.WORKERS ?? 1);
const GAP_MS = Number(process.env.GAP_MS ?? 20);
const MiB = 1024 * 1024;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100));
  return Math.round((sorted[at] ?? 0) * 100) / 100;
}

function summary(values: readonly number[]): { p50: number; p90: number; p99: number } {
  return { p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function series(sandbox: WasmSandbox, language: Language, gapMs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const result = await sandbox.execute(
      { language, code: PRINT_ONE[language], stdin: "", args: [], env: {}, files: [] },
      { limits: DEFAULT_LIMITS },
    );
    times.push(performance.now() - started);
    if (result.stdout !== "1\n") throw new Error(`${language}: unexpected output ${JSON.stringify(result)}`);
    if (gapMs > 0) await sleep(gapMs);
  }
  return times;
}

const wanted = process.argv.slice(2).filter((a): a is Language => (LANGUAGES as readonly string[]).includes(a));
const languages = wanted.length > 0 ? wanted : [...LANGUAGES];
const rssBefore = process.memoryUsage().rss;
const createStarted = performance.now();
const sandbox = await WasmSandbox.create({ logger: silentLogger(), workers: WORKERS, languages });
const createMs = performance.now() - createStarted;
await sleep(500);
const rssIdle = process.memoryUsage().rss;
const report: Record<string, unknown> = {
  workers: WORKERS,
  runs: RUNS,
  gapMs: GAP_MS,
  createMs: Math.round(createMs),
  rssBeforeMiB: Math.round(rssBefore / MiB),
  rssIdleMiB: Math.round(rssIdle / MiB),
};
for (const language of languages) {
  await series(sandbox, language, 0); // warm-up: lazily compiled code, first spares
  const gap = summary(await series(sandbox, language, GAP_MS));
  const backToBack = summary(await series(sandbox, language, 0));
  report[language] = { sequentialWithGap: gap, backToBack };
}
await sleep(500);
report.rssAfterMiB = Math.round(process.memoryUsage().rss / MiB);
await sandbox[Symbol.asyncDispose]();
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);

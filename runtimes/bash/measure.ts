/**
 * Measures the bash WebAssembly runtime (run: `npx tsx runtimes/bash/measure.ts`): bundle size,
 * QuickJS compile time, instance build time (shims + bundle evaluation), snapshot size, restore
 * time, per-run time of small scripts, and memory per instance. Prints one JSON object.
 */

import { NO_NETWORK_REPLY } from "../../src/sandbox/host-call.js";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import { BUILD_DIR, buildBashBundle } from "./bundle.js";
import { CappedSink } from "./runner-harness.js";
import { type BashRunner, createBashWasmRuntime } from "./wasm.js";

const RUNS = 50;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 100) / 100;
}

async function timeRuns(
  runner: BashRunner,
  code: string,
  stdin = "",
): Promise<{ medianMs: number; restoreMs: number }> {
  const runs: number[] = [];
  const restores: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const out = new CappedSink(DEFAULT_LIMITS.maxOutputBytes);
    const outcome = await runner.run(
      { language: "bash", code, stdin, args: [], env: {}, files: [] },
      {
        limits: DEFAULT_LIMITS,
        deadline: Date.now() + DEFAULT_LIMITS.timeoutMs,
        stdout: out,
        stderr: new CappedSink(DEFAULT_LIMITS.maxOutputBytes),
        cancelled: () => false,
        http: () => NO_NETWORK_REPLY,
      },
    );
    if (outcome.error) throw new Error(`measurement run failed: ${outcome.error.code} ${outcome.error.message}`);
    runs.push(performance.now() - started);
    restores.push((await runner.stats()).lastRestoreMs);
  }
  return { medianMs: median(runs), restoreMs: median(restores) };
}

const built = await buildBashBundle();
const runtime = createBashWasmRuntime({ buildDir: BUILD_DIR });
const loadStarted = performance.now();
const assets = await runtime.load();
const loadMs = performance.now() - loadStarted;
const rssBefore = process.memoryUsage().rss;
const createStarted = performance.now();
const runner = (await runtime.createRunner(assets)) as BashRunner;
const createMs = performance.now() - createStarted;
const stats = await runner.stats();
const echo = await timeRuns(runner, "echo hi");
const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${i % 7 === 0 ? "seven" : "other"}`).join("\n");
const pipe = await timeRuns(
  runner,
  "grep seven | sed 's/line/L/' | sort -r | awk '{ n++ } END { print n }'",
  `${lines}\n`,
);
const after = await runner.stats();

process.stdout.write(
  `${JSON.stringify(
    {
      bundleBytes: built.bundleBytes,
      shimsBytes: built.shimsBytes,
      loadMs: Math.round(loadMs),
      createRunnerMs: Math.round(createMs),
      evaluateMs: Math.round(stats.evaluateMs),
      snapshotBytes: stats.snapshotBytes,
      restoreMedianMs: echo.restoreMs,
      echoHiMedianMs: echo.medianMs,
      pipe200LinesMedianMs: pipe.medianMs,
      instanceMemoryBytes: after.memoryBytes,
      rssGrowthForOneInstanceBytes: process.memoryUsage().rss - rssBefore,
      instancesCreated: after.instancesCreated,
      runsPerScript: RUNS,
    },
    null,
    2,
  )}\n`,
);

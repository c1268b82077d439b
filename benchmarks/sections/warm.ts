/**
 * Warm start: sequential print(1)-class executions per language, each in a fresh instance, timed
 * end to end by the client. Over HTTP against the spawned server (keep-alive fetch, auth and the
 * whole request pipeline included), and in-process through WasmSandbox.execute (the worker pool
 * only), back-to-back and with a pause between runs.
 */
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import type { Language } from "../../src/sandbox/types.js";
import { type BenchConfig, wants } from "../lib/config.js";
import type { Dist } from "../lib/dist.js";
import { EXPECTED_STDOUT, printOneRequest } from "../lib/programs.js";
import type { Progress } from "../lib/progress.js";
import {
  isUnavailable,
  type Maybe,
  type PerLanguage,
  type SampledLatency,
  type ThroughputCell,
  unavailable,
} from "../lib/results.js";
import { type Attempt, type SampleOptions, sampleSequential } from "../lib/sampling.js";
import type { SpawnedServer } from "../lib/server.js";
import { since } from "../lib/stats.js";
import { measureThroughputCells } from "./throughput.js";

function describe(result: Maybe<SampledLatency>): string {
  return isUnavailable(result)
    ? `unavailable (${result.unavailable})`
    : `p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (n=${result.n})`;
}

/**
 * Every warm series' sampling, from the configuration alone (so what each series means is stated,
 * and tested, in one place). `gapMs` is the pause before each sampled execution of the paused series:
 * an agent's tool calls come with pauses (its model thinks between them), and a host that idles
 * between executions answers more slowly than one kept busy (see src/sandbox/wasm/handoff.ts). The
 * HTTP series checked against the targets are the paused ones; the back-to-back series (each
 * execution sent as soon as the previous answer arrived) are shown beside them. Warm-ups never pause.
 */
export function warmSeriesOptions(config: BenchConfig): {
  readonly httpEarly: SampleOptions;
  readonly httpSteady: SampleOptions;
  /** Right after httpSteady, on the same server (undefined when gapMs is 0: httpSteady is back-to-back). */
  readonly httpBackToBack: SampleOptions | undefined;
  readonly inProcess: SampleOptions;
  /** Right after inProcess (undefined when gapMs is 0). */
  readonly inProcessPaused: SampleOptions | undefined;
} {
  const samples = config.samples;
  const maxSeconds = config.warmMaxSeconds;
  const gapMs = config.gapMs;
  return {
    httpEarly: { warmup: config.warmup, samples, gapMs, maxSeconds },
    httpSteady: { warmup: config.serverWarmup, samples, gapMs, maxSeconds },
    httpBackToBack: gapMs > 0 ? { warmup: 0, samples, maxSeconds } : undefined,
    inProcess: { warmup: config.warmup, samples, maxSeconds },
    inProcessPaused: gapMs > 0 ? { warmup: 0, samples, gapMs, maxSeconds } : undefined,
  };
}

/**
 * Two series per language against a server that just started: first every language's "early"
 * series (after `warmup` executions), then every language's steady-state series (after
 * `serverWarmup` more). The server's request path (HTTP, pipeline, store) and each worker's runtime
 * glue run in V8's interpreter and baseline tiers until they are hot enough to be optimised. Most of
 * that code runs once or a few times per execution, so V8 keeps optimising more of it for thousands
 * of executions, on background threads that share the cores with the requests. Measured with
 * `--trace-opt` (default flags): after 1,000 JavaScript executions the server still compiled ~20
 * functions, 100-300 ms of CPU, per 100 executions; after 6,000, ~5-10. Per bucket of 500
 * executions, in the order of this section, JavaScript's client p50 went 6.7, 5.9, 5.2, 5.1, 4.4,
 * 4.1, 4.2, 3.7, 4.2, 3.9 ms and the server's CPU per execution 11.2 -> ~5 ms; Ruby's p50 7.2-7.4 ms
 * in its 2nd-6th bucket and 6.1-6.7 in its 7th-10th; Python's and Bash's were flat after their first
 * bucket (the request path was warm by then). So the steady state, the one checked against the
 * target, starts after 4,000 executions of the language; the early series shows a server just
 * started. Both pause `gapMs` before each execution; the steady one is followed by the same series
 * back-to-back (warmSeriesOptions).
 */
export async function measureWarmHttp(server: SpawnedServer, config: BenchConfig, progress: Progress) {
  const options = warmSeriesOptions(config);
  const paused = config.gapMs > 0 ? `, ${config.gapMs} ms pauses` : ", back-to-back";
  const early: PerLanguage<SampledLatency> = {};
  const steady: PerLanguage<SampledLatency> = {};
  const backToBack: PerLanguage<SampledLatency> = {};
  for (const language of config.languages) {
    const result = await sampleSequential(() => server.printOne(language), options.httpEarly);
    progress(`warm HTTP ${language}, just started (after ${config.warmup}${paused}): ${describe(result)}`);
    early[language] = result;
  }
  for (const language of config.languages) {
    const result = await sampleSequential(() => server.printOne(language), options.httpSteady);
    progress(`warm HTTP ${language}, steady (after ${config.serverWarmup} more${paused}): ${describe(result)}`);
    steady[language] = result;
    if (options.httpBackToBack) {
      const unpaused = await sampleSequential(() => server.printOne(language), options.httpBackToBack);
      progress(`warm HTTP ${language}, steady, back-to-back: ${describe(unpaused)}`);
      backToBack[language] = unpaused;
    }
  }
  return { early, steady, ...(options.httpBackToBack ? { backToBack } : {}) };
}

type WasmSandbox = Awaited<ReturnType<Dist["wasmSandbox"]["WasmSandbox"]["create"]>>;

async function inProcessAttempt(sandbox: WasmSandbox, language: Language): Promise<Attempt> {
  const started = performance.now();
  try {
    const result = await sandbox.execute(printOneRequest(language), { limits: DEFAULT_LIMITS });
    const ms = since(started);
    if (result.exitCode === 0 && result.stdout === EXPECTED_STDOUT) return { ok: true, ms };
    return { ok: false, ms, failure: JSON.stringify({ ...result, files: undefined }).slice(0, 300) };
  } catch (error) {
    return { ok: false, ms: since(started), failure: error instanceof Error ? error.message : String(error) };
  }
}

/** Warm in-process series, and (with the throughput section) in-process throughput on the same pool. */
export async function measureWarmInProcess(dist: Dist, config: BenchConfig, progress: Progress) {
  const wantsWarm = wants(config, "warm");
  const wantsThroughput = wants(config, "throughput");
  const backToBack: PerLanguage<SampledLatency> = {};
  const gapped: PerLanguage<SampledLatency & { gapMs: number }> = {};
  const throughput: PerLanguage<{ cells: ThroughputCell[] }> = {};
  const sandbox = await dist.wasmSandbox.WasmSandbox.create({
    logger: dist.logger.silentLogger(),
    ...(config.workers === undefined ? {} : { workers: config.workers }),
  });
  try {
    const loaded = new Set(sandbox.languages().map((l) => l.language));
    for (const language of config.languages) {
      if (!loaded.has(language)) {
        const reason = sandbox.unavailable.find((u) => u.language === language)?.reason ?? "not loaded";
        backToBack[language] = unavailable(`not loaded in-process: ${reason}`);
        throughput[language] = backToBack[language];
        progress(`in-process ${language}: unavailable (${reason})`);
        continue;
      }
      if (wantsWarm) await warmSeries(sandbox, language, config, progress, backToBack, gapped);
      if (wantsThroughput) {
        throughput[language] = {
          cells: await measureThroughputCells(
            () => inProcessAttempt(sandbox, language),
            config,
            (c) => {
              progress(`throughput in-process ${language} x${c.concurrency}: ${c.perSecond}/s (${c.failures} failed)`);
            },
          ),
        };
      }
    }
  } finally {
    await sandbox[Symbol.asyncDispose]();
  }
  return { backToBack, gapped, throughput };
}

async function warmSeries(
  sandbox: WasmSandbox,
  language: Language,
  config: BenchConfig,
  progress: Progress,
  backToBack: PerLanguage<SampledLatency>,
  gapped: PerLanguage<SampledLatency & { gapMs: number }>,
): Promise<void> {
  const options = warmSeriesOptions(config);
  const result = await sampleSequential(() => inProcessAttempt(sandbox, language), options.inProcess);
  backToBack[language] = result;
  progress(`warm in-process ${language} back-to-back: ${describe(result)}`);
  if (options.inProcessPaused) {
    const paused = await sampleSequential(() => inProcessAttempt(sandbox, language), options.inProcessPaused);
    gapped[language] = isUnavailable(paused) ? paused : { ...paused, gapMs: config.gapMs };
    progress(`warm in-process ${language} with ${config.gapMs} ms gaps: ${describe(paused)}`);
  }
}

/** The JSON written to benchmarks/results/latest.json (version 1). Every time is in milliseconds. */
import type { Language } from "../../src/sandbox/types.js";
import type { LatencySummary } from "./stats.js";

/** A measurement that could not be taken, and why. */
export interface Unavailable {
  readonly unavailable: string;
}

export type Maybe<T> = T | Unavailable;

export function isUnavailable<T extends object>(value: Maybe<T> | undefined): value is Unavailable {
  return value !== undefined && "unavailable" in value;
}

export function unavailable(reason: unknown): Unavailable {
  return { unavailable: reason instanceof Error ? reason.message : String(reason) };
}

export type PerLanguage<T> = Partial<Record<Language, Maybe<T>>>;

export interface ColdStartRun {
  /** Spawn to the first 200 from /readyz. */
  readonly readyMs: number;
  /** Spawn to the first successful execution of the language (readiness wait included). */
  readonly firstResultMs: number;
  /** The first execution's own round trip. */
  readonly firstExecutionMs: number;
  /** VmRSS of the server right after the first result. */
  readonly rssBytes: number;
  /**
   * With a snapshot cache: the hits and misses the server logged for this language (none for a
   * language without a boot snapshot, e.g. javascript), to tell a warm-cache start that missed.
   */
  readonly snapshotCache?: { readonly hits: number; readonly misses: number };
}

export interface ColdStartSeries {
  readonly runs: readonly ColdStartRun[];
  /** Median over runs. */
  readonly firstResultMs: number;
  readonly readyMs: number;
}

/** The default configuration's cold start (checked against the target), and the same with a warm snapshot cache. */
export interface ColdStart extends ColdStartSeries {
  /**
   * With SANDBOX_SNAPSHOT_CACHE_DIR set to a directory a previous server filled: the boots are read
   * from disk. Shown beside the default, never checked against the target (the default is off).
   */
  readonly warmSnapshotCache?: Maybe<ColdStartSeries>;
  /**
   * With SANDBOX_WASM_LANGUAGES set to this language alone: no other runtime loads beside it. Shown
   * beside the default, never checked against the target (the default loads all four).
   */
  readonly onlyThisLanguage?: Maybe<ColdStartSeries>;
}

export interface SampledLatency extends LatencySummary {
  /** Executions that failed or printed something else (excluded from the samples). */
  readonly failures: number;
  /** HTTP only: p50 of the `durationMs` the server reported (time inside WasmSandbox.execute, queueing included). */
  readonly sandboxP50Ms?: number;
}

export interface ThroughputCell {
  readonly concurrency: number;
  readonly executions: number;
  readonly failures: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly latency?: LatencySummary;
  /** First failure seen, for diagnosis. */
  readonly firstFailure?: string;
}

export interface RssProbe {
  readonly languages: readonly string[];
  readonly workers: number;
  /** Spares each worker keeps per language (SANDBOX_SPARES); absent in results from before it existed. */
  readonly spares?: number;
  readonly rssBytes: number;
}

export interface RssPerLanguage {
  /** (RSS with N workers - RSS with 1 worker) / (N - 1), only this language loaded. */
  readonly perWorkerBytes: number;
  /** perWorkerBytes minus the same figure with no language loaded (the bare worker thread). */
  readonly perPooledInstanceBytes: number;
  /**
   * (RSS of one worker keeping `spares` spares - RSS of one keeping 1) / (spares - 1): what one more
   * idle spare holds, nothing else. Absent for Bash (one instance per worker, whatever SANDBOX_SPARES).
   */
  readonly perSpare?: Maybe<{ readonly bytes: number }>;
}

export interface RssResult {
  readonly method: string;
  readonly workers: number;
  /** The spares of the per-spare probe (RssPerLanguage.perSpare). */
  readonly spares?: number;
  readonly bareWorkerBytes: Maybe<{ readonly bytes: number }>;
  readonly perLanguage: PerLanguage<RssPerLanguage>;
  readonly probes: readonly RssProbe[];
  /** The server's VmRSS when idle after the warm and throughput runs. */
  readonly serverIdleRssBytes?: number;
  readonly serverWorkers?: number;
}

export interface NaiveRubyWasm {
  readonly compileMs: number;
  /** Instantiate + init (DefaultRubyVM) of a fresh VM, module already compiled. */
  readonly init: LatencySummary;
  /** init plus vm.eval of the first program. */
  readonly initAndRun: LatencySummary;
  readonly packageVersion: string;
}

export interface NaivePyodide {
  /** loadPyodide() in a fresh process, per run. */
  readonly loadMs: readonly number[];
  readonly firstRunMs: readonly number[];
  readonly medianLoadMs: number;
  readonly version: string;
}

export interface Baselines {
  readonly native: PerLanguage<SampledLatency & { readonly command: string }>;
  readonly processSandbox: PerLanguage<SampledLatency>;
  readonly naiveRubyWasm?: Maybe<NaiveRubyWasm>;
  readonly naivePyodide?: Maybe<NaivePyodide>;
}

export interface TargetCheck {
  readonly id: string;
  readonly description: string;
  /** Human-readable goal, e.g. "<= 3 ms". */
  readonly goal: string;
  /** Human-readable measurement. */
  readonly measured: string;
  /** null when the measurement is unavailable. */
  readonly met: boolean | null;
  /** "met" / "missed by ..." / "not measured: ...". */
  readonly verdict: string;
}

export interface Machine {
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd?: readonly number[];
  /**
   * Per phase of the run, the share of the machine's CPU time that the hypervisor gave to someone
   * else (steal time in /proc/stat, 0..1): how slow a phase the numbers come from. Linux only.
   */
  readonly stolenCpuShare?: Readonly<Record<string, number>>;
  /**
   * The same fixed CPU-only work timed back-to-back and after the warm series' pause, in the
   * benchmark process (lib/pause-probe.ts): how much slower this machine is right after idling.
   */
  readonly pauseProbe?: PauseProbeResult;
}

export type PauseProbeResult = Maybe<{
  readonly pauseMs: number;
  readonly backToBackP50Ms: number;
  readonly pausedP50Ms: number;
  /** pausedP50Ms / backToBackP50Ms. */
  readonly ratio: number;
}>;

export interface BenchResults {
  readonly version: 1;
  readonly generatedAt: string;
  readonly durationMs?: number;
  readonly git: { readonly commit: string; readonly dirty: boolean };
  readonly machine: Machine;
  readonly config: Readonly<Record<string, unknown>>;
  readonly serverLanguages?: Readonly<Record<string, string>>;
  readonly coldStart?: PerLanguage<ColdStart>;
  readonly warm?: {
    /**
     * Against a server with its default configuration (`SANDBOX_STORE_SYNC=full`), in steady state:
     * after the early series and `serverWarmup` more executions per language, pausing `httpPauseMs`
     * before each execution (as do httpEarly and httpStoreSyncNormal).
     */
    readonly http: PerLanguage<SampledLatency>;
    /** The pause (ms) before each sampled execution of the HTTP series but httpBackToBack; 0: none. */
    readonly httpPauseMs?: number;
    /** Right after `http`, the same server, each execution sent as soon as the previous answer arrived. */
    readonly httpBackToBack?: PerLanguage<SampledLatency>;
    /** The same server just started: after `warmup` executions. */
    readonly httpEarly?: PerLanguage<SampledLatency>;
    /** The steady-state series against a second server started with `SANDBOX_STORE_SYNC=normal`. */
    readonly httpStoreSyncNormal?: PerLanguage<SampledLatency>;
    /** In-process, back-to-back. */
    readonly inProcess: PerLanguage<SampledLatency>;
    readonly inProcessGapped?: PerLanguage<SampledLatency & { readonly gapMs: number }>;
  };
  readonly throughput?: PerLanguage<{ readonly cells: readonly ThroughputCell[] }>;
  /** The same closed loop against WasmSandbox.execute in-process (no HTTP). */
  readonly throughputInProcess?: PerLanguage<{ readonly cells: readonly ThroughputCell[] }>;
  readonly rss?: Maybe<RssResult>;
  readonly baselines?: Baselines;
  readonly targets: readonly TargetCheck[];
}

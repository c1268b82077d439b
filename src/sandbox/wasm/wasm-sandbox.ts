/**
 * WasmSandbox: every execution runs in a fresh WebAssembly interpreter instance inside a worker
 * thread. Modules are compiled once by the loaders and shared with the workers; the pool enforces
 * the hard deadline by terminating workers.
 *
 * Languages load independently: `start()` returns once the worker threads run, with every language
 * `loading`; each becomes `available` when its loader finished and a worker built its runner, or
 * `unavailable` with the reason (fail closed: it never runs elsewhere). An execution of a language
 * still loading waits for that load (bounded by the loader's own timeout and the request's signal),
 * then runs or answers RUNTIME_UNAVAILABLE with the reason. `create()` is `start()` plus waiting
 * until every language finished loading.
 */
import { availableParallelism } from "node:os";
import { ServiceError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { DEFAULT_LIMITS } from "../limits.js";
import type { LanguageState, LanguageStatus, LoadingSandbox } from "../registry.js";
import type {
  ExecuteOptions,
  ExecutionRequest,
  ExecutionResult,
  Language,
  RuntimeInfo,
  SandboxAvailability,
  SandboxLanguage,
} from "../types.js";
import { LANGUAGES, SCRIPT_FILES } from "../types.js";
import { changedFiles } from "../workspace.js";
import { byLoadPriority, defaultLoadConcurrency, startLoads } from "./load-order.js";
import { type LoaderReply, RuntimeLoader } from "./load-runtime.js";
import type { RunnerOptions } from "./runtime.js";
import { ExecutionActivity, warmUpRequest, warmUpVerdict } from "./warm-up.js";
import { type PoolRun, WorkerPool } from "./worker-pool.js";

export interface WasmSandboxOptions {
  /** Languages to load; default: every registered wasm runtime. */
  readonly languages?: readonly Language[];
  /** Worker threads; default: the number of cores. */
  readonly workers?: number;
  readonly maxQueue?: number;
  readonly maxWorkerHeapMb?: number;
  /** Executions whose guest may wait for a human at once (each holds a parked worker); default 8. */
  readonly maxParkedWorkers?: number;
  /** How each worker's runners keep never-used instances ready; default DEFAULT_RUNNER_OPTIONS. */
  readonly runner?: RunnerOptions;
  /**
   * Interpreter boots running at the same time, in LOAD_PRIORITY order; default: one per core, at
   * least 2. With the default `load`, every load starts at once and the loader limits its boot
   * processes (limitBootProcesses); a substituted `load` is limited as a whole (BOOTLESS_LOADS take
   * no place).
   */
  readonly loadConcurrency?: number;
  /**
   * Directory of the opt-in on-disk cache of boot snapshots (boot-cache.ts); default: none, every
   * start boots afresh. Only used by the default `load`.
   */
  readonly snapshotCacheDir?: string;
  /**
   * The RuntimeLoader to load with, started early but not configured yet (main.ts starts it before
   * it reads its configuration); default: a new one. The sandbox configures it and ends it.
   */
  readonly loader?: RuntimeLoader;
  /** Loads one language (default: a request to the sandbox's one RuntimeLoader worker); tests substitute slow or failing loads. */
  readonly load?: (language: Language, signal: AbortSignal) => Promise<LoaderReply>;
  readonly logger: Logger;
}

export interface UnavailableLanguage {
  readonly language: Language;
  readonly reason: string;
}

export class WasmSandbox implements LoadingSandbox {
  readonly kind = "wasm" as const;
  private readonly states = new Map<Language, LanguageState>();
  private readonly settled = new Map<Language, Promise<void>>();
  private allLoaded: Promise<void> = Promise.resolve();
  private allWarmedUp: Promise<void> = Promise.resolve();
  /** The requests' executions, which the warm-ups and quietAfterLoads give way to (warm-up.ts). */
  private readonly activity = new ExecutionActivity();

  private constructor(
    private readonly pool: WorkerPool,
    private readonly logger: Logger,
    /** Aborted at dispose: loaders still running are terminated. */
    private readonly shutdown: AbortController,
  ) {}

  /** Starts the workers and the loaders; resolves once the workers run (languages still loading). */
  static async start(options: WasmSandboxOptions): Promise<WasmSandbox> {
    const wanted = byLoadPriority(options.languages ?? LANGUAGES);
    const started = performance.now();
    const shutdown = new AbortController();
    // Loaders start first: the pool's workers start meanwhile.
    const concurrency = options.loadConcurrency ?? defaultLoadConcurrency(availableParallelism());
    const { snapshotCacheDir } = options;
    // One loader worker for every language, ended once they all loaded or at shutdown.
    if (options.load) void options.loader?.[Symbol.asyncDispose]();
    const loader = options.load ? undefined : (options.loader ?? new RuntimeLoader());
    loader?.configure({
      ...(snapshotCacheDir === undefined ? {} : { snapshotCacheDir }),
      bootConcurrency: concurrency,
    });
    const load = options.load ?? ((language, signal) => (loader as RuntimeLoader).load(language, { signal }));
    const loads = startLoads(wanted, loader ? Number.POSITIVE_INFINITY : concurrency, (language) =>
      load(language, shutdown.signal),
    );
    for (const load of loads) load.catch(() => undefined);
    if (loader) {
      shutdown.signal.addEventListener("abort", () => void loader[Symbol.asyncDispose](), { once: true });
      void Promise.allSettled(loads).then(() => loader.close());
    }
    let pool: WorkerPool;
    try {
      pool = await WorkerPool.start({
        size: options.workers ?? availableParallelism(),
        maxQueue: options.maxQueue ?? 256,
        maxWorkerHeapMb: options.maxWorkerHeapMb ?? 512,
        ...(options.maxParkedWorkers !== undefined ? { maxParked: options.maxParkedWorkers } : {}),
        ...(options.runner ? { runner: options.runner } : {}),
        logger: options.logger,
      });
    } catch (error) {
      shutdown.abort();
      throw error;
    }
    const sandbox = new WasmSandbox(pool, options.logger, shutdown);
    wanted.forEach((language, i) => {
      sandbox.states.set(language, { state: "loading" });
      const load = loads[i] ?? Promise.resolve({ ok: false as const, reason: "not loaded" });
      sandbox.settled.set(language, sandbox.follow(language, load, started));
    });
    // The end of the loads counts as activity: a request for the language just announced may be on its way.
    sandbox.allLoaded = Promise.all(sandbox.settled.values()).then(() => sandbox.activity.touch());
    sandbox.allWarmedUp = sandbox.allLoaded.then(() => sandbox.warmUp());
    return sandbox;
  }

  /** start(), then wait until every language finished loading. */
  static async create(options: WasmSandboxOptions): Promise<WasmSandbox> {
    const sandbox = await WasmSandbox.start(options);
    await sandbox.loaded();
    return sandbox;
  }

  /** One language's load, then its runner in the workers; never rejects. */
  private async follow(language: Language, load: Promise<LoaderReply>, started: number): Promise<void> {
    const reply = await load.catch(
      (error: unknown): LoaderReply => ({
        ok: false as const,
        reason: error instanceof Error ? error.message : String(error),
      }),
    );
    for (const record of reply.bootCacheLog ?? [])
      this.logger[record.level]({ language, ...record.fields }, record.msg);
    let state: LanguageState;
    if (!reply.ok) state = { state: "unavailable", reason: reply.reason };
    else {
      try {
        await this.pool.addRuntime(language, reply.assets);
        state = { state: "available", runtime: reply.info };
      } catch (error) {
        state = { state: "unavailable", reason: error instanceof Error ? error.message : String(error) };
      }
    }
    this.states.set(language, state);
    const ms = Math.round(performance.now() - started);
    if (state.state === "available") this.logger.info({ language, ms }, "wasm runtime available");
    else if (state.state === "unavailable")
      this.logger.warn({ language, ms, reason: state.reason }, "wasm runtime unavailable");
  }

  /** Resolves once every language that loaded ran its warm-up (or the warm-ups were given up). */
  warmedUp(): Promise<void> {
    return this.allWarmedUp;
  }

  /**
   * Resolves once every language finished loading and then no request's execution ran for a moment
   * (the same wait as each warm-up's, warm-up.ts `quiet`: at most WARM_UP_MAX_DEFER_MS), or at
   * shutdown: when the server's other start-up work (the process sandbox's probes) may take the
   * cores without slowing the requests that come as soon as the last language is announced.
   */
  async quietAfterLoads(): Promise<void> {
    await this.allLoaded;
    await this.activity.quiet(this.shutdown.signal);
  }

  /**
   * One unseen execution per available language, one after the other, once every load settled,
   * each when no request's execution ran for a moment (warm-up.ts: why, and why not earlier). A
   * warm-up that ran and printed the wrong thing makes its language unavailable (fail closed); one
   * stopped by a host limit or a shutdown changes nothing.
   */
  private async warmUp(): Promise<void> {
    for (const [language] of this.states) {
      await this.activity.quiet(this.shutdown.signal);
      if (this.shutdown.signal.aborted) return;
      const state = this.states.get(language);
      if (state?.state !== "available") continue;
      const started = performance.now();
      let run: PoolRun;
      try {
        run = await this.pool.run(warmUpRequest(language), DEFAULT_LIMITS, this.shutdown.signal);
      } catch (error) {
        if (this.shutdown.signal.aborted) return;
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn({ language, reason }, "wasm runtime warm-up not run");
        continue;
      }
      if (this.shutdown.signal.aborted) return;
      const ms = Math.round(performance.now() - started);
      const verdict = warmUpVerdict(language, run);
      if (verdict.kind === "ok") this.logger.info({ language, ms }, "wasm runtime warmed up");
      else if (verdict.kind === "inconclusive") {
        this.logger.warn({ language, ms, reason: verdict.reason }, "wasm runtime warm-up stopped by a limit");
      } else {
        this.states.set(language, { state: "unavailable", reason: verdict.reason });
        this.logger.error({ language, ms, reason: verdict.reason }, "wasm runtime unavailable");
      }
    }
  }

  /** Resolves once every configured language finished loading (available or not). */
  loaded(): Promise<void> {
    return this.allLoaded;
  }

  languageStates(): readonly LanguageStatus[] {
    return [...this.states].map(([language, state]) => ({ language, ...state }));
  }

  /** Languages that could not be loaded, and why. */
  get unavailable(): readonly UnavailableLanguage[] {
    const out: UnavailableLanguage[] = [];
    for (const [language, state] of this.states) {
      if (state.state === "unavailable") out.push({ language, reason: state.reason });
    }
    return out;
  }

  availability(): SandboxAvailability {
    return [...this.states.values()].some((s) => s.state !== "unavailable")
      ? { available: true }
      : { available: false, reason: "no WebAssembly runtime could be loaded" };
  }

  languages(): readonly SandboxLanguage[] {
    const out: SandboxLanguage[] = [];
    for (const [language, state] of this.states) {
      if (state.state === "available") out.push({ language, runtime: state.runtime });
    }
    return out;
  }

  async execute(request: ExecutionRequest, options: ExecuteOptions): Promise<ExecutionResult> {
    const runtime = await this.runtimeFor(request.language, options.signal);
    const started = performance.now();
    this.activity.begin();
    let run: PoolRun;
    try {
      run = await this.pool.run(request, options.limits, options.signal, options.effects);
    } finally {
      this.activity.end();
    }
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    return toResult(runtime, request, run, durationMs);
  }

  /** The language's runtime, once it loaded (waiting for a load in progress); RUNTIME_UNAVAILABLE otherwise. */
  private async runtimeFor(language: Language, signal: AbortSignal | undefined): Promise<RuntimeInfo> {
    const settled = this.settled.get(language);
    if (!settled) throw new ServiceError("RUNTIME_UNAVAILABLE", `${language} is not configured on the wasm sandbox`);
    if (this.states.get(language)?.state === "loading") await untilSettled(settled, signal, language);
    const state = this.states.get(language);
    if (state?.state === "available") return state.runtime;
    const reason = state?.state === "unavailable" ? state.reason : "it did not load";
    throw new ServiceError("RUNTIME_UNAVAILABLE", `${language} is unavailable on the wasm sandbox: ${reason}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.shutdown.abort();
    await this.pool.close();
  }
}

/** Waits for a load; an aborted request stops waiting (NOT_READY: nothing ran). */
function untilSettled(settled: Promise<void>, signal: AbortSignal | undefined, language: Language): Promise<void> {
  if (!signal) return settled;
  const notReady = () => new ServiceError("NOT_READY", `the request ended while ${language} was still loading`);
  if (signal.aborted) return Promise.reject(notReady());
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(notReady());
    signal.addEventListener("abort", onAbort, { once: true });
    void settled.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

function toResult(runtime: RuntimeInfo, request: ExecutionRequest, run: PoolRun, durationMs: number): ExecutionResult {
  const output = {
    stdout: run.stdout.text,
    stderr: run.stderr.text,
    truncated: { stdout: run.stdout.truncated, stderr: run.stderr.truncated },
  };
  if (run.kind === "killed") {
    return {
      runtime,
      exitCode: null,
      ...output,
      files: [],
      durationMs,
      error: { code: run.code, message: run.message },
    };
  }
  const script = { path: SCRIPT_FILES[request.language], content: new TextEncoder().encode(request.code) };
  const { outcome } = run;
  return {
    runtime,
    exitCode: outcome.exitCode,
    ...output,
    files: changedFiles([...request.files, script], outcome.files),
    durationMs,
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

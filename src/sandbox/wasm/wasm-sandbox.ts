/**
 * WasmSandbox: every execution runs in a fresh WebAssembly interpreter instance inside a worker
 * thread. Modules are compiled once on the main thread and shared with the workers; the pool
 * enforces the hard deadline by terminating workers.
 */
import { availableParallelism } from "node:os";
import { WASM_RUNTIMES } from "../../../runtimes/wasm-runtimes.js";
import type { Logger } from "../../logger.js";
import type {
  ExecuteOptions,
  ExecutionRequest,
  ExecutionResult,
  Language,
  RuntimeInfo,
  Sandbox,
  SandboxAvailability,
  SandboxLanguage,
} from "../types.js";
import { SCRIPT_FILES } from "../types.js";
import { changedFiles } from "../workspace.js";
import { loadRuntime } from "./load-runtime.js";
import type { RuntimeAssets } from "./runtime.js";
import { type PoolRun, WorkerPool } from "./worker-pool.js";

export interface WasmSandboxOptions {
  /** Languages to load; default: every registered wasm runtime. */
  readonly languages?: readonly Language[];
  /** Worker threads; default: the number of cores. */
  readonly workers?: number;
  readonly maxQueue?: number;
  readonly maxWorkerHeapMb?: number;
  readonly logger: Logger;
}

export interface UnavailableLanguage {
  readonly language: Language;
  readonly reason: string;
}

export class WasmSandbox implements Sandbox {
  readonly kind = "wasm" as const;

  private constructor(
    private readonly pool: WorkerPool,
    private readonly available: readonly SandboxLanguage[],
    readonly unavailable: readonly UnavailableLanguage[],
  ) {}

  static async create(options: WasmSandboxOptions): Promise<WasmSandbox> {
    const wanted = options.languages ?? (Object.keys(WASM_RUNTIMES) as Language[]);
    const assets: Partial<Record<Language, RuntimeAssets>> = {};
    const infos = new Map<Language, RuntimeInfo>();
    const unavailable: UnavailableLanguage[] = [];
    // Each runtime loads in its own worker: in parallel, and never blocking the main thread.
    const replies = await Promise.all(
      wanted.map(async (language) => ({ language, reply: await loadRuntime(language) })),
    );
    for (const { language, reply } of replies) {
      if (reply.ok) {
        assets[language] = reply.assets;
        infos.set(language, reply.info);
      } else {
        options.logger.warn({ language, reason: reply.reason }, "wasm runtime unavailable");
        unavailable.push({ language, reason: reply.reason });
      }
    }
    const pool = await WorkerPool.start({
      size: options.workers ?? availableParallelism(),
      assets,
      maxQueue: options.maxQueue ?? 256,
      maxWorkerHeapMb: options.maxWorkerHeapMb ?? 512,
      logger: options.logger,
    });
    const available: SandboxLanguage[] = [];
    for (const report of pool.runners()) {
      const runtime = infos.get(report.language);
      if (report.error === undefined && runtime) available.push({ language: report.language, runtime });
      else unavailable.push({ language: report.language, reason: report.error ?? "runtime did not load" });
    }
    return new WasmSandbox(pool, available, unavailable);
  }

  availability(): SandboxAvailability {
    return this.available.length > 0
      ? { available: true }
      : { available: false, reason: "no WebAssembly runtime could be loaded" };
  }

  languages(): readonly SandboxLanguage[] {
    return this.available;
  }

  async execute(request: ExecutionRequest, options: ExecuteOptions): Promise<ExecutionResult> {
    const entry = this.available.find((l) => l.language === request.language);
    if (!entry) throw new Error(`wasm sandbox cannot run ${request.language}`);
    const started = performance.now();
    const run = await this.pool.run(request, options.limits, options.signal, options.effects);
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    return toResult(entry.runtime, request, run, durationMs);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.pool.close();
  }
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

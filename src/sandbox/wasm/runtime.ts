/**
 * The contract between WasmSandbox and a language runtime (`runtimes/<language>/wasm.ts`).
 *
 * Lifecycle:
 * - `load()` runs once on the main thread at startup: compile WebAssembly modules, read data files.
 *   The assets it returns are posted to every worker (structured clone: WebAssembly.Module,
 *   Uint8Array, strings, numbers), so a module is compiled once and shared.
 * - `createRunner(assets, options)` runs once per worker thread.
 * - `runner.run(request, context)` runs once per execution, always in a fresh interpreter instance.
 *   Guest outcomes are returned; limit hits may be thrown as GuestLimitError; anything else thrown is
 *   a host fault, after which the worker is discarded.
 */
import type { GuestHttpReply, GuestHttpRequest } from "../host-call.js";
import type { Limits } from "../limits.js";
import type { ExecutionOutcome, ExecutionRequest, Language, RuntimeInfo, WorkspaceFile } from "../types.js";
import type { PreparationGauge } from "./preparation-gauge.js";
import { DEFAULT_SPARE_MIN_AVAILABLE_BYTES } from "./spare-pool.js";

export type RuntimeAssets = Readonly<Record<string, unknown>>;

/** A byte sink capped by the host; `write` throws GuestLimitError(OUTPUT_LIMIT) once the cap is reached. */
export interface OutputSink {
  write(chunk: Uint8Array | string): void;
  /** Bytes accepted so far. */
  readonly length: number;
}

export interface RunContext {
  readonly limits: Limits;
  /**
   * Epoch milliseconds after which the guest must stop (the host kills it `killGraceMs` later).
   * It moves later after a host call that waited for a human: read it when you check, never copy it.
   */
  readonly deadline: number;
  readonly stdout: OutputSink;
  readonly stderr: OutputSink;
  /** True once the host asked this execution to stop (deadline reached or the request was aborted). */
  cancelled(): boolean;
  /**
   * A guest's HTTP request, answered by the host (src/sandbox/host-call.ts). Blocks this thread until
   * the answer arrives (it may wait for a human approval). Never throws for a guest cause: refusals
   * come back as `{ ok: false, code, message }`. May throw GuestLimitError(TIMEOUT) when the
   * execution is cancelled while waiting.
   */
  http(request: GuestHttpRequest): GuestHttpReply;
}

export interface RunOutcome {
  readonly exitCode: number | null;
  /** Every regular file under the workspace when the guest stopped; the sandbox diffs it against the input. */
  readonly files: readonly WorkspaceFile[];
  readonly error?: ExecutionOutcome;
}

export interface Runner {
  run(request: ExecutionRequest, context: RunContext): Promise<RunOutcome>;
}

/** How a runner keeps its never-used instances ready (spare-pool.ts), from the server's configuration. */
export interface RunnerOptions {
  /** Instances prepared ahead of requests, per worker (0: each one prepared when its request comes). */
  readonly spares: number;
  /** No spare is prepared in the background while less memory than this is available to the process. */
  readonly minAvailableMemoryBytes: number;
  /**
   * The worker's count of background preparations, read by the main thread when it picks a worker
   * (preparation-gauge.ts); set by the worker, not configured. A runtime counts only preparations a
   * run should rather not wait for (Ruby's); the others ignore it.
   */
  readonly gauge?: PreparationGauge;
}

export const DEFAULT_RUNNER_OPTIONS: RunnerOptions = {
  spares: 1,
  minAvailableMemoryBytes: DEFAULT_SPARE_MIN_AVAILABLE_BYTES,
};

export interface WasmRuntime {
  readonly language: Language;
  readonly info: RuntimeInfo;
  /** Main thread, once. Throws if the runtime cannot be loaded on this host (the language is then unavailable). */
  load(): Promise<RuntimeAssets>;
  /** Worker thread, once per worker (options: default DEFAULT_RUNNER_OPTIONS). */
  createRunner(assets: RuntimeAssets, options?: RunnerOptions): Promise<Runner>;
}

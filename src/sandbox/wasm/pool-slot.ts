/** What WorkerPool keeps about each worker thread and each execution (worker-pool.ts). */
import type { MessagePort, Worker } from "node:worker_threads";
import type { EffectHandler } from "../host-call.js";
import type { Limits } from "../limits.js";
import type { ExecutionRequest, Language } from "../types.js";
import type { DeadlineClock } from "./deadline-clock.js";
import type { PreparationGauge } from "./preparation-gauge.js";
import type { RunOutcome } from "./runtime.js";
import type { CapturedOutput } from "./shared-output.js";

export type PoolRun =
  | {
      readonly kind: "completed";
      readonly outcome: RunOutcome;
      readonly stdout: CapturedOutput;
      readonly stderr: CapturedOutput;
    }
  | {
      readonly kind: "killed";
      readonly code: "TIMEOUT" | "MEMORY_LIMIT" | "SANDBOX_FAULT";
      readonly message: string;
      readonly stdout: CapturedOutput;
      readonly stderr: CapturedOutput;
    };

export interface Task {
  readonly request: ExecutionRequest;
  readonly limits: Limits;
  readonly signal: AbortSignal | undefined;
  readonly effects: EffectHandler | undefined;
  resolve(run: PoolRun): void;
  reject(error: unknown): void;
}

export interface Slot {
  readonly worker: Worker;
  /** The main thread's end of the worker's host-call channel. */
  readonly hostPort: MessagePort;
  ready: boolean;
  current?: ActiveRun;
  /** When this worker last became idle (performance.now()). */
  idleSince: number;
  /** Languages this worker has a runner for. */
  readonly languages: Set<Language>;
  /** Languages whose runner this worker is building (it takes no execution meanwhile). */
  readonly building: Set<Language>;
  /** Why a runner could not be built in this worker, by language. */
  readonly errors: Map<Language, string>;
  /** Lets this worker go while it waits after its last run (handoff.ts); the next run calls it first. */
  release?: () => void;
  /** The worker's count of background preparations a run should not wait for (preparation-gauge.ts). */
  readonly preparing: PreparationGauge;
  /** Output buffers, reused by this worker's runs (shared-output.ts). */
  outputs?: { readonly stdout: SharedArrayBuffer; readonly stderr: SharedArrayBuffer };
}

export interface ActiveRun {
  readonly id: number;
  readonly task: Task;
  readonly control: Int32Array;
  readonly stdout: SharedArrayBuffer;
  readonly stderr: SharedArrayBuffer;
  readonly timers: NodeJS.Timeout[];
  readonly onAbort: () => void;
  /**
   * Aborted when the run ends: host calls in flight for it stop. Made at the run's first host call
   * (most runs make none, and an abort with nobody listening still builds its DOMException).
   */
  ended: AbortController | undefined;
  /** The deadline clock (pausable while a host call waits for a human). */
  readonly clock: DeadlineClock;
  /** Pauses in effect: while above 0 the worker is parked (its guest waits for a human). */
  parked: number;
  /** Its worker waits after replying until the main thread lets it go (handoff.ts). */
  readonly handoff: boolean;
}

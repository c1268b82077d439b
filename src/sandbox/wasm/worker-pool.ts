/**
 * A fixed-size pool of worker threads, each running one execution at a time. The pool owns the hard
 * deadline: at `timeoutMs` it asks the guest to stop, at `timeoutMs + killGraceMs` it terminates the
 * worker and answers TIMEOUT with the output produced so far. A terminated or faulted worker is
 * replaced in the background, off the request path.
 */
import { MessageChannel, type MessagePort, type Worker } from "node:worker_threads";
import { ServiceError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { type EffectHandler, type GuestHttpReply, NO_NETWORK_REPLY } from "../host-call.js";
import type { Limits } from "../limits.js";
import type { ExecutionRequest, Language } from "../types.js";
import { DeadlineClock } from "./deadline-clock.js";
import {
  CANCEL_REQUESTED,
  CONTROL_CANCEL,
  CONTROL_REPLY,
  CONTROL_WORDS,
  type HostCallAnswer,
  type HostCallMessage,
  type ReadyMessage,
  type RunMessage,
  type WorkerToMain,
} from "./protocol.js";
import type { RunOutcome, RuntimeAssets } from "./runtime.js";
import { allocateSharedOutput, type CapturedOutput, readSharedOutput } from "./shared-output.js";
import { spawnWorker } from "./spawn-worker.js";

export interface WorkerPoolOptions {
  readonly size: number;
  readonly assets: Partial<Record<Language, RuntimeAssets>>;
  /** Executions allowed to wait for a worker; beyond that, OVERLOADED. */
  readonly maxQueue: number;
  /** V8 heap cap per worker (host-side JS of the runtimes, not WASM memory). */
  readonly maxWorkerHeapMb: number;
  readonly logger: Logger;
}

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

interface Task {
  readonly request: ExecutionRequest;
  readonly limits: Limits;
  readonly signal: AbortSignal | undefined;
  readonly effects: EffectHandler | undefined;
  resolve(run: PoolRun): void;
  reject(error: unknown): void;
}

interface Slot {
  readonly worker: Worker;
  /** The main thread's end of the worker's host-call channel. */
  readonly hostPort: MessagePort;
  ready: boolean;
  current?: ActiveRun;
  /** When this worker last became idle (performance.now()). */
  idleSince: number;
}

interface ActiveRun {
  readonly id: number;
  readonly task: Task;
  readonly control: Int32Array;
  readonly stdout: SharedArrayBuffer;
  readonly stderr: SharedArrayBuffer;
  readonly timers: NodeJS.Timeout[];
  readonly onAbort: () => void;
  /** Aborted when the run ends: host calls in flight for it stop. */
  readonly ended: AbortController;
  /** The deadline clock (pausable while a host call waits for a human). */
  readonly clock: DeadlineClock;
}

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private runnersReport: ReadyMessage["runners"] = [];

  private constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts every worker and waits until they have built their runners. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    const reports = await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
    pool.runnersReport = reports[0] ?? [];
    return pool;
  }

  /** What the workers reported about each language's runner. */
  runners(): ReadyMessage["runners"] {
    return this.runnersReport;
  }

  run(request: ExecutionRequest, limits: Limits, signal?: AbortSignal, effects?: EffectHandler): Promise<PoolRun> {
    if (this.closed)
      return Promise.reject(new ServiceError("SANDBOX_UNAVAILABLE", "the wasm sandbox is shutting down"));
    if (this.slots.size === 0)
      return Promise.reject(new ServiceError("SANDBOX_UNAVAILABLE", "no wasm worker is running"));
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(new ServiceError("OVERLOADED"));
    return new Promise<PoolRun>((resolve, reject) => {
      this.queue.push({ request, limits, signal, effects, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) {
      task.reject(new ServiceError("SANDBOX_UNAVAILABLE", "the wasm sandbox is shutting down"));
    }
    await Promise.all([...this.slots].map((slot) => this.retire(slot, "SANDBOX_FAULT", "the wasm sandbox shut down")));
  }

  private spawn(): Promise<ReadyMessage["runners"]> {
    const worker = spawnWorker("worker", { resourceLimits: { maxOldGenerationSizeMb: this.options.maxWorkerHeapMb } });
    const channel = new MessageChannel();
    const slot: Slot = { worker, hostPort: channel.port1, ready: false, idleSince: performance.now() };
    channel.port1.on("message", (message: HostCallMessage) => this.onHostCall(slot, message));
    channel.port1.unref();
    this.slots.add(slot);
    return new Promise((resolve, reject) => {
      worker.on("message", (message: WorkerToMain) => {
        if (message.type === "ready") {
          slot.ready = true;
          resolve(message.runners);
          this.dispatch();
        } else {
          this.onMessage(slot, message);
        }
      });
      worker.on("error", (error: Error & { code?: string }) => {
        if (!slot.ready) {
          // A worker that cannot even start is not replaced in a loop; the pool shrinks instead.
          this.slots.delete(slot);
          this.failIfEmpty();
          reject(error);
          return;
        }
        const outOfMemory = error.code === "ERR_WORKER_OUT_OF_MEMORY";
        this.options.logger.warn({ err: error.message, code: error.code }, "wasm worker failed");
        void this.retire(
          slot,
          outOfMemory ? "MEMORY_LIMIT" : "SANDBOX_FAULT",
          outOfMemory ? "worker heap limit reached" : "worker failed",
        );
      });
      worker.on("exit", () => {
        if (this.slots.has(slot)) void this.retire(slot, "SANDBOX_FAULT", "worker exited unexpectedly");
      });
      worker.postMessage({ type: "init", assets: this.options.assets, hostPort: channel.port2 }, [channel.port2]);
    });
  }

  private failIfEmpty(): void {
    if (this.slots.size > 0) return;
    for (const task of this.queue.splice(0)) {
      task.reject(new ServiceError("SANDBOX_UNAVAILABLE", "no wasm worker is running"));
    }
  }

  /**
   * Hands queued tasks to idle workers, the longest-idle first: a worker prepares its next spare
   * instance right after replying, so the one idle longest is the one most likely to have it ready.
   */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let best: Slot | undefined;
      for (const slot of this.slots) {
        if (!slot.ready || slot.current) continue;
        if (!best || slot.idleSince < best.idleSince) best = slot;
      }
      const task = best && this.queue.shift();
      if (!best || !task) return;
      this.start(best, task);
    }
  }

  private start(slot: Slot, task: Task): void {
    const { limits } = task;
    const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
    const id = this.nextId++;
    const cancel = () => {
      Atomics.store(control, CONTROL_CANCEL, CANCEL_REQUESTED);
      // Wakes a guest blocked in a host call, so it sees the flag now rather than at its next check.
      Atomics.notify(control, CONTROL_REPLY);
    };
    const kill = (message: string) => {
      if (slot.current?.id === id) void this.retire(slot, "TIMEOUT", message);
    };
    const onAbort = () => {
      cancel();
      slot.current?.timers.push(setTimeout(() => kill("execution was cancelled"), limits.killGraceMs));
    };
    const clock = new DeadlineClock(Date.now() + limits.timeoutMs, limits.killGraceMs, cancel, () =>
      kill("execution exceeded its time limit"),
    );
    const run: ActiveRun = {
      id,
      task,
      control,
      stdout: allocateSharedOutput(limits.maxOutputBytes),
      stderr: allocateSharedOutput(limits.maxOutputBytes),
      onAbort,
      timers: [],
      ended: new AbortController(),
      clock,
    };
    slot.current = run;
    if (task.signal?.aborted) onAbort();
    else task.signal?.addEventListener("abort", onAbort, { once: true });
    const message: RunMessage = {
      type: "run",
      id,
      request: task.request,
      limits,
      deadline: clock.deadline,
      control: control.buffer as SharedArrayBuffer,
      stdout: run.stdout,
      stderr: run.stderr,
    };
    slot.worker.postMessage(message);
  }

  /** A guest's effect: answered by the run's handler (no handler: no network), then the guest wakes. */
  private onHostCall(slot: Slot, message: HostCallMessage): void {
    const run = slot.current;
    if (!run || run.id !== message.runId || message.type !== "http") return;
    const handler = run.task.effects;
    const answered = handler
      ? handler
          .http(message.request, { signal: run.ended.signal, pauseDeadline: () => run.clock.pause() })
          .catch((error: unknown): GuestHttpReply => {
            this.options.logger.error(
              { err: error instanceof Error ? error.message : String(error) },
              "effect handler failed",
            );
            return { ok: false, code: "EGRESS_INTERNAL", message: "The host failed while handling the request." };
          })
      : Promise.resolve(NO_NETWORK_REPLY);
    void answered.then((reply) => {
      if (slot.current !== run) return;
      const answer: HostCallAnswer = { runId: run.id, seq: message.seq, reply, deadline: run.clock.deadline };
      const transfer = reply.ok && reply.body.byteLength > 0 ? [reply.body.buffer as ArrayBuffer] : [];
      slot.hostPort.postMessage(answer, transfer);
      Atomics.add(run.control, CONTROL_REPLY, 1);
      Atomics.notify(run.control, CONTROL_REPLY);
    });
  }

  private onMessage(slot: Slot, message: Exclude<WorkerToMain, ReadyMessage>): void {
    const run = slot.current;
    if (!run || run.id !== message.id) return;
    if (message.type === "fault") {
      this.options.logger.error({ fault: message.message }, "wasm runner fault; replacing worker");
      void this.retire(slot, "SANDBOX_FAULT", "the sandbox failed while running the code");
      return;
    }
    this.finish(slot, run);
    run.task.resolve({
      kind: "completed",
      outcome: message.outcome,
      stdout: readSharedOutput(run.stdout),
      stderr: readSharedOutput(run.stderr),
    });
    this.dispatch();
  }

  private finish(slot: Slot, run: ActiveRun): void {
    run.clock.stop();
    run.ended.abort();
    for (const timer of run.timers) clearTimeout(timer);
    run.task.signal?.removeEventListener("abort", run.onAbort);
    slot.current = undefined;
    slot.idleSince = performance.now();
  }

  /** Terminates a worker, answers its execution (if any) with `code`, and starts a replacement. */
  private async retire(slot: Slot, code: "TIMEOUT" | "MEMORY_LIMIT" | "SANDBOX_FAULT", message: string): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const run = slot.current;
    if (run) {
      this.finish(slot, run);
      run.task.resolve({
        kind: "killed",
        code,
        message,
        stdout: readSharedOutput(run.stdout),
        stderr: readSharedOutput(run.stderr),
      });
    }
    // The replacement is registered before the old worker is gone, so a request arriving meanwhile
    // waits in the queue for it instead of finding no worker at all.
    if (!this.closed) {
      this.spawn().catch((error: unknown) => {
        this.failIfEmpty();
        this.options.logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          "could not replace wasm worker",
        );
      });
    }
    slot.hostPort.close();
    await slot.worker.terminate();
  }
}

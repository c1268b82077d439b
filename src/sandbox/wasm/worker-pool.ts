/**
 * A fixed-size pool of worker threads, each running one execution at a time. The pool owns the hard
 * deadline: at `timeoutMs` it asks the guest to stop, at `timeoutMs + killGraceMs` it terminates the
 * worker and answers TIMEOUT with the output produced so far. A terminated or faulted worker is
 * replaced in the background, off the request path.
 *
 * Languages arrive one by one (`addRuntime`, as each loader finishes): one worker builds the new
 * runner first, so the language is usable as soon as one worker has it while the others keep
 * serving; then the rest build it. An execution goes only to a worker that has its language's
 * runner, and never to one that is building a runner (it would wait behind the build). A worker
 * started later (a replacement) builds every language known so far before it takes work.
 */
import { MessageChannel } from "node:worker_threads";
import { ServiceError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { type EffectHandler, type GuestHttpReply, NO_NETWORK_REPLY } from "../host-call.js";
import type { Limits } from "../limits.js";
import type { ExecutionRequest, Language } from "../types.js";
import { DeadlineClock } from "./deadline-clock.js";
import { HandoffPolicy, releaseWorker } from "./handoff.js";
import type { ActiveRun, PoolRun, Slot, Task } from "./pool-slot.js";
import { PreparationGauge } from "./preparation-gauge.js";
import {
  type AddMessage,
  CANCEL_REQUESTED,
  CONTROL_CANCEL,
  CONTROL_REPLY,
  CONTROL_WORDS,
  type FaultMessage,
  type HostCallAnswer,
  type HostCallMessage,
  type InitMessage,
  type ResultMessage,
  type RunMessage,
  type RunnerReport,
  type WorkerToMain,
} from "./protocol.js";
import { DEFAULT_RUNNER_OPTIONS, type RunnerOptions, type RuntimeAssets } from "./runtime.js";
import { allocateSharedOutput, claimSharedOutput, readSharedOutput, sharedOutputCapacity } from "./shared-output.js";
import { spawnWorker } from "./spawn-worker.js";

export interface WorkerPoolOptions {
  readonly size: number;
  /** Languages loaded before the pool starts; later ones come through addRuntime(). */
  readonly assets?: Partial<Record<Language, RuntimeAssets>>;
  /** Executions allowed to wait for a worker; beyond that, OVERLOADED. */
  readonly maxQueue: number;
  /** V8 heap cap per worker (host-side JS of the runtimes, not WASM memory). */
  readonly maxWorkerHeapMb: number;
  /**
   * Workers whose guest may wait for a human at once. A parked worker does not count against
   * `size`: the pool starts a stand-in so the others keep running; beyond this many, an effect that
   * needs approval is refused (EGRESS_APPROVAL_UNAVAILABLE) instead of parking. Default 8.
   */
  readonly maxParked?: number;
  /** How each worker's runners keep instances ready; default DEFAULT_RUNNER_OPTIONS. */
  readonly runner?: RunnerOptions;
  readonly logger: Logger;
}

interface AddWaiter {
  resolve(): void;
  reject(error: Error): void;
}

export type { PoolRun } from "./pool-slot.js";

const DEFAULT_MAX_PARKED = 8;

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  /** Runs whose guest is waiting for a human (their worker is parked). */
  private parkedRuns = 0;
  private readonly assets: Partial<Record<Language, RuntimeAssets>>;
  private readonly adds = new Map<Language, AddWaiter>();
  private readonly handoffs = new HandoffPolicy();

  private constructor(private readonly options: WorkerPoolOptions) {
    this.assets = { ...options.assets };
  }

  /** Starts every worker and waits until they have built the runners of `options.assets`. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
    return pool;
  }

  /**
   * Hands a newly loaded language to the workers. Resolves once one worker has its runner (the
   * language is then usable); rejects with the workers' reason when none could build it.
   */
  addRuntime(language: Language, assets: RuntimeAssets): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the wasm sandbox is shutting down"));
    if (this.assets[language]) return Promise.reject(new Error(`${language} was already added`));
    this.assets[language] = assets;
    return new Promise<void>((resolve, reject) => {
      this.adds.set(language, { resolve, reject });
      this.propagate(language);
    });
  }

  run(request: ExecutionRequest, limits: Limits, signal?: AbortSignal, effects?: EffectHandler): Promise<PoolRun> {
    if (this.closed)
      return Promise.reject(new ServiceError("SANDBOX_UNAVAILABLE", "the wasm sandbox is shutting down"));
    if (this.slots.size === 0)
      return Promise.reject(new ServiceError("SANDBOX_UNAVAILABLE", "no wasm worker is running"));
    if (!this.canRun(request.language))
      return Promise.reject(new ServiceError("SANDBOX_UNAVAILABLE", `no wasm worker can run ${request.language}`));
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
    for (const [language, waiter] of this.adds) {
      this.adds.delete(language);
      waiter.reject(new Error("the wasm sandbox is shutting down"));
    }
    await Promise.all([...this.slots].map((slot) => this.retire(slot, "SANDBOX_FAULT", "the wasm sandbox shut down")));
  }

  private spawn(): Promise<void> {
    const worker = spawnWorker("worker", { resourceLimits: { maxOldGenerationSizeMb: this.options.maxWorkerHeapMb } });
    const channel = new MessageChannel();
    const assets = { ...this.assets };
    const slot: Slot = {
      worker,
      hostPort: channel.port1,
      ready: false,
      idleSince: performance.now(),
      languages: new Set(),
      building: new Set(Object.keys(assets) as Language[]),
      errors: new Map(),
      preparing: new PreparationGauge(),
    };
    channel.port1.on("message", (message: HostCallMessage) => this.onHostCall(slot, message));
    channel.port1.unref();
    this.slots.add(slot);
    return new Promise((resolve, reject) => {
      worker.on("message", (message: WorkerToMain) => {
        if (message.type === "ready") {
          slot.ready = true;
          for (const report of message.runners) this.onRunner(slot, report);
          resolve();
          this.dispatch();
        } else if (message.type === "added") {
          this.onRunner(slot, message.runner);
          this.dispatch();
        } else {
          this.onMessage(slot, message);
        }
      });
      worker.on("error", (error: Error & { code?: string }) => {
        if (!slot.ready) {
          // A worker that cannot even start is not replaced in a loop; the pool shrinks instead.
          this.slots.delete(slot);
          this.failUnrunnable();
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
      const runner = this.options.runner ?? DEFAULT_RUNNER_OPTIONS;
      const init: InitMessage = {
        type: "init",
        assets,
        hostPort: channel.port2,
        runner,
        preparing: slot.preparing.shared,
      };
      worker.postMessage(init, [channel.port2]);
    });
  }

  /** A worker's answer about one runner (at init or after an add). */
  private onRunner(slot: Slot, report: RunnerReport): void {
    slot.building.delete(report.language);
    if (report.error === undefined) {
      slot.languages.add(report.language);
      this.options.logger.debug({ language: report.language, buildMs: report.buildMs }, "wasm worker built a runner");
    } else {
      slot.errors.set(report.language, report.error);
      this.options.logger.warn(
        { language: report.language, err: report.error },
        "wasm worker could not build a runner",
      );
    }
    this.propagate(report.language);
    this.failUnrunnable();
  }

  private has(language: Language): boolean {
    for (const slot of this.slots) if (slot.languages.has(language)) return true;
    return false;
  }

  private canRun(language: Language): boolean {
    for (const slot of this.slots) if (slot.languages.has(language) || slot.building.has(language)) return true;
    return false;
  }

  /**
   * Moves an added language on: to one worker first (preferably an idle one), to every other worker
   * once one has it, to the next worker when one failed; settles addRuntime() when a worker has it
   * or every worker failed.
   */
  private propagate(language: Language): void {
    const assets = this.assets[language];
    if (!assets || this.closed) return;
    const slots = [...this.slots];
    if (slots.some((slot) => slot.building.has(language))) return;
    const lacking = slots.filter((slot) => !slot.languages.has(language) && !slot.errors.has(language));
    const available = this.has(language);
    const targets = available ? lacking : lacking.sort((a, b) => Number(!!a.current) - Number(!!b.current)).slice(0, 1);
    for (const slot of targets) {
      slot.building.add(language);
      const add: AddMessage = { type: "add", language, assets };
      slot.worker.postMessage(add);
    }
    const waiter = this.adds.get(language);
    if (!waiter || (!available && targets.length > 0)) return;
    this.adds.delete(language);
    if (available) waiter.resolve();
    else {
      const reason = slots.map((slot) => slot.errors.get(language)).find((e) => e !== undefined);
      waiter.reject(new Error(reason ?? "no wasm worker is running"));
    }
  }

  /** Answers queued executions that no worker can run any more (none has or is building the runner). */
  private failUnrunnable(): void {
    const stuck = this.queue.filter((task) => !this.canRun(task.request.language));
    if (stuck.length === 0) return;
    this.queue.splice(0, this.queue.length, ...this.queue.filter((task) => !stuck.includes(task)));
    for (const task of stuck) {
      const message =
        this.slots.size === 0 ? "no wasm worker is running" : `no wasm worker can run ${task.request.language}`;
      task.reject(new ServiceError("SANDBOX_UNAVAILABLE", message));
    }
  }

  /**
   * Hands queued tasks to idle workers that have their language, the one that finished a run most
   * recently first (pickIdleSlot). A task no idle worker can take stays queued, in order, without
   * holding up the tasks behind it. One exception: a worker still preparing something a run should
   * not wait for (Ruby's next spare, ~3 ms: preparation-gauge.ts) comes after an idle one that is not.
   *
   * Why the most recent, although it may still be preparing its next spare (Python's memory rewrite
   * ~2.5 ms, JavaScript's clone ~1.3 ms; it starts right after replying, or after an idle spell once
   * the main thread lets it go: handoff.ts) and the run then waits
   * for that, while the worker idle longest would start at once: on 2 cores, that second worker's
   * run competes with the first one's preparation, the main thread and the client for the cores and
   * their caches, and waiting costs less. One client sending executions one after another, both
   * orders' servers up at once and blocks of requests alternating between them
   * (benchmarks/dev/measure-ab.ts), p50 of the most recent first against the longest idle first:
   * JavaScript -0.61 ms (faster in 28 of 30 rounds), Python -0.36 ms (27/30), Bash -0.30 ms
   * (20/24), Ruby -0.10 ms (14/24). With many clients each idle worker gets a task as soon as it is
   * idle, so the order hardly matters there. A host with cores to spare might do better the other
   * way (not measured: this machine has 2).
   */
  private dispatch(): void {
    for (let i = 0; i < this.queue.length; ) {
      const task = this.queue[i] as Task;
      const slot = this.idleSlotFor(task.request.language);
      if (!slot) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.start(slot, task);
    }
  }

  private idleSlotFor(language: Language): Slot | undefined {
    return pickIdleSlot(this.slots, language);
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
      ...this.claimOutputs(slot, id, limits.maxOutputBytes),
      onAbort,
      timers: [],
      ended: undefined,
      clock,
      parked: 0,
      handoff: this.handoffs.started(),
    };
    slot.current = run;
    // The worker still waits after its previous run: it has work now.
    slot.release?.();
    slot.release = undefined;
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
      handoff: run.handoff,
    };
    slot.worker.postMessage(message);
  }

  /**
   * The slot's output buffers, claimed for run `id`: reused while the cap stays the same (a worker
   * runs one execution at a time, and a retired worker's buffers go with it), else allocated anew.
   */
  private claimOutputs(slot: Slot, id: number, capacity: number): Pick<ActiveRun, "stdout" | "stderr"> {
    let outputs = slot.outputs;
    if (!outputs || sharedOutputCapacity(outputs.stdout) !== capacity) {
      outputs = { stdout: allocateSharedOutput(capacity), stderr: allocateSharedOutput(capacity) };
      slot.outputs = outputs;
    }
    return { stdout: claimSharedOutput(outputs.stdout, id), stderr: claimSharedOutput(outputs.stderr, id) };
  }

  /** A guest's effect: answered by the run's handler (no handler: no network), then the guest wakes. */
  private onHostCall(slot: Slot, message: HostCallMessage): void {
    const run = slot.current;
    if (!run || run.id !== message.runId || message.type !== "http") return;
    const handler = run.task.effects;
    const ended = run.ended ?? new AbortController();
    run.ended = ended;
    const answered = handler
      ? handler
          .http(message.request, { signal: ended.signal, pauseDeadline: () => this.park(run) })
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

  private onMessage(slot: Slot, message: ResultMessage | FaultMessage): void {
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
      stdout: readSharedOutput(run.stdout, run.id),
      stderr: readSharedOutput(run.stderr, run.id),
    });
    if (run.handoff) this.letGo(slot, run.control);
    if (this.surplus()) void this.retire(slot, "SANDBOX_FAULT", "", false);
    this.dispatch();
  }

  /**
   * Lets the worker waiting after a run go (handoff.ts): at once when other runs are in flight or
   * queued, otherwise after two turns of this event loop (the commit, the group fsync at the next
   * setImmediate and the reply happen in between), or when the next run is handed to it.
   */
  private letGo(slot: Slot, control: Int32Array): void {
    const release = () => releaseWorker(control);
    if (this.queue.length > 0 || [...this.slots].some((other) => other.current !== undefined)) {
      release();
      return;
    }
    slot.release = release;
    setImmediate(() =>
      setImmediate(() => {
        if (slot.release === release) slot.release = undefined;
        release();
      }),
    );
  }

  /**
   * A run's guest starts waiting for a human: its deadline stops and its worker no longer counts as
   * capacity, so a stand-in worker is started when the active ones fall below `size`. Throws when
   * `maxParked` runs wait already (the effect is then refused, fail closed).
   */
  private park(run: ActiveRun): () => void {
    if (run.parked === 0) {
      if (this.parkedRuns >= (this.options.maxParked ?? DEFAULT_MAX_PARKED)) {
        throw new Error("too many executions are waiting for a human");
      }
      this.parkedRuns++;
      if (!this.closed && this.slots.size - this.parkedRuns < this.options.size) {
        this.spawn().catch((error: unknown) =>
          this.options.logger.error(
            { err: error instanceof Error ? error.message : String(error) },
            "could not start a stand-in worker",
          ),
        );
      }
    }
    run.parked++;
    const resumeClock = run.clock.pause();
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      resumeClock();
      if (run.parked > 0 && --run.parked === 0) this.parkedRuns--;
    };
  }

  /** Ends a run's parking (it finished or was killed while waiting). */
  private unpark(run: ActiveRun): void {
    if (run.parked === 0) return;
    run.parked = 0;
    this.parkedRuns--;
  }

  /** Whether the pool has more active workers than `size` (a stand-in outlived the wait it covered). */
  private surplus(): boolean {
    return this.slots.size - this.parkedRuns > this.options.size;
  }

  private finish(slot: Slot, run: ActiveRun): void {
    this.handoffs.ended();
    this.unpark(run);
    run.clock.stop();
    run.ended?.abort();
    for (const timer of run.timers) clearTimeout(timer);
    run.task.signal?.removeEventListener("abort", run.onAbort);
    slot.current = undefined;
    slot.idleSince = performance.now();
  }

  /** Terminates a worker, answers its execution (if any) with `code`, and starts a replacement unless told not to. */
  private async retire(
    slot: Slot,
    code: "TIMEOUT" | "MEMORY_LIMIT" | "SANDBOX_FAULT",
    message: string,
    replace = true,
  ): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const run = slot.current;
    if (run) {
      this.finish(slot, run);
      run.task.resolve({
        kind: "killed",
        code,
        message,
        stdout: readSharedOutput(run.stdout, run.id),
        stderr: readSharedOutput(run.stderr, run.id),
      });
    }
    // The replacement is registered before the old worker is gone, so a request arriving meanwhile
    // waits in the queue for it instead of finding no worker at all.
    if (replace && !this.closed && !this.surplus()) {
      this.spawn().catch((error: unknown) => {
        this.failUnrunnable();
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

/**
 * The idle worker for a run of `language`: among those that can take it, the one that finished a
 * run most recently (see dispatch), but one whose gauge counts no preparation before one whose
 * gauge does (preparation-gauge.ts: Ruby's next spare).
 */
export function pickIdleSlot<
  S extends Pick<Slot, "ready" | "current" | "building" | "languages" | "idleSince" | "preparing">,
>(slots: Iterable<S>, language: Language): S | undefined {
  let best: S | undefined;
  let bestPrepared: S | undefined;
  for (const slot of slots) {
    if (!slot.ready || slot.current || slot.building.size > 0 || !slot.languages.has(language)) continue;
    if (!best || slot.idleSince > best.idleSince) best = slot;
    if (!slot.preparing.busy && (!bestPrepared || slot.idleSince > bestPrepared.idleSince)) bestPrepared = slot;
  }
  return bestPrepared ?? best;
}

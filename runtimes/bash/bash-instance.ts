/**
 * One QuickJS instance with the shims and the just-bash bundle evaluated, snapshotted, and restored
 * right after every execution (off the reply path; before the next one at the latest), so each
 * execution starts from the same pristine state: no variable, function, file or PRNG state
 * survives from one execution into the next. The PRNG is reseeded at the start of each run.
 *
 * Two ways to build one:
 * - `create`: a new QuickJS instance evaluates shims + bundle (~0.5 s) and runs the rehearsal (see
 *   `rehearse`), once per server (the boot) or in a worker whose clone failed;
 * - `clone`: a new QuickJS instance on a new memory, brought to another instance's snapshot by
 *   copying it in (~25 ms). quickjs-emscripten's JS side is rebuilt by replaying the calls that
 *   precede the bundle evaluation (runtime, stack size, context); they are deterministic, so the
 *   runtime and context land at the same addresses as in the snapshot (checked; a mismatch fails).
 *   The clone then binds its own guest handles and takes its own snapshot: the seed's image (shared,
 *   not copied) plus the few pages that binding changed (memory-snapshot.ts).
 *
 * An instance whose call trapped or overflowed the host stack is marked `broken`: its shadow stack
 * and engine state are unknown, so it is discarded instead of restored; an instance whose memory
 * grew is discarded too (memory never shrinks). The runner replaces either with a clone.
 */
import type { QuickJSContext, QuickJSRuntime } from "quickjs-emscripten-core";
import { NO_NETWORK_REPLY } from "../../src/sandbox/host-call.js";
import { DEFAULT_LIMITS, WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { guestLimits } from "./execution-limits.js";
import type { GuestRequest, GuestSummary } from "./guest/protocol.js";
import { GuestApi, GuestException } from "./guest-api.js";
import { type MemoryImage, MemorySnapshot, writeImage } from "./memory-snapshot.js";
import { drive, type PumpControl, type PumpEnd } from "./pump.js";
import { instantiateQuickJS, type QuickJSInstance } from "./quickjs-module.js";

/** QuickJS's own stack ceiling; deeper recursion throws a catchable InternalError inside QuickJS. */
export const MAX_STACK_BYTES = 256 * 1024;

export interface BashSources {
  readonly shims: string;
  readonly bundle: string;
}

export interface InstanceTimings {
  /** Time to evaluate shims + bundle (create) or to copy the snapshot in and rebind (clone). */
  readonly evaluateMs: number;
  readonly snapshotBytes: number;
  readonly cloned: boolean;
}

/** A snapshot clones start from, with the engine addresses it was taken at. */
export interface BashSeed {
  readonly image: MemoryImage;
  readonly rt: unknown;
  readonly ctx: unknown;
}

export interface GuestJob {
  readonly requestJson: string;
  readonly contents: readonly Uint8Array[];
  readonly seed: Uint32Array;
  readonly memoryLimitBytes: number;
}

export type JobEnd =
  | {
      readonly kind: "settled";
      readonly stdout: Uint8Array;
      readonly stderr: Uint8Array;
      readonly summary: GuestSummary;
      readonly files: readonly Uint8Array[];
      /** True when the linear-memory cap refused a growth during the run. */
      readonly memoryCapReached: boolean;
    }
  | { readonly kind: "interrupted" }
  | { readonly kind: "stalled" }
  | { readonly kind: "out-of-memory"; readonly message: string };

export class BashInstance {
  private broken = false;
  /** True from the start of a run until the snapshot is restored. */
  private dirty = false;
  /** True while a run is in progress (a restore then waits for the run after it). */
  private running = false;
  private restoreMs = 0;

  private constructor(
    private readonly quickjs: QuickJSInstance,
    private readonly runtime: QuickJSRuntime,
    private readonly context: QuickJSContext,
    private readonly api: GuestApi,
    private readonly snapshot: MemorySnapshot,
    readonly timings: InstanceTimings,
    private readonly control: { stop: () => boolean; interrupted: boolean },
  ) {}

  /** `rehearsal`: the script of the boot's rehearsal (see rehearse; tests pass a failing one). */
  static async create(
    wasmModule: WebAssembly.Module,
    sources: BashSources,
    rehearsal: string = REHEARSAL_SCRIPT,
  ): Promise<BashInstance> {
    const quickjs = await instantiateQuickJS(wasmModule);
    const { runtime, context } = newEngine(quickjs);
    const started = performance.now();
    // Our own trusted code, evaluated before the interrupt handler exists (it would only cost time).
    evaluate(context, sources.shims, "shims.js");
    evaluate(context, sources.bundle, "just-bash.js");
    const api = GuestApi.bind(context);
    await rehearse(runtime, api, rehearsal);
    return BashInstance.finish(quickjs, runtime, context, api, started);
  }

  /** A new instance on a new memory, in the state of `seed` (see the module comment). */
  static async clone(wasmModule: WebAssembly.Module, seed: BashSeed): Promise<BashInstance> {
    const { image } = seed;
    const quickjs = await instantiateQuickJS(wasmModule, image.byteLength / WASM_PAGE_BYTES);
    const { runtime, context } = newEngine(quickjs);
    if (quickjs.memory.buffer.byteLength !== image.byteLength || !sameEngineAddresses(seed, runtime, context)) {
      throw new Error("bash runtime: a clone's engine does not match its snapshot");
    }
    const started = performance.now();
    writeImage(image, quickjs.memory);
    return BashInstance.finish(quickjs, runtime, context, GuestApi.bind(context), started, image);
  }

  private static finish(
    quickjs: QuickJSInstance,
    runtime: QuickJSRuntime,
    context: QuickJSContext,
    api: GuestApi,
    started: number,
    /** A clone's seed image: its snapshot is that image plus what this instance's setup changed. */
    seedImage?: MemoryImage,
  ): BashInstance {
    const evaluateMs = performance.now() - started;
    const control = { stop: () => false, interrupted: false };
    // The handler's C-side switch is part of the snapshot; its JS side reads `control` each run.
    runtime.setInterruptHandler(() => {
      if (!control.stop()) return false;
      control.interrupted = true;
      return true;
    });
    const snapshot = new MemorySnapshot(quickjs.memory, seedImage);
    return new BashInstance(
      quickjs,
      runtime,
      context,
      api,
      snapshot,
      { evaluateMs, snapshotBytes: snapshot.byteLength, cloned: seedImage !== undefined },
      control,
    );
  }

  /** Bytes of linear memory the instance holds now (it never shrinks). */
  get memoryBytes(): number {
    return this.quickjs.memory.buffer.byteLength;
  }

  /** How long the last snapshot restore took. */
  get lastRestoreMs(): number {
    return this.restoreMs;
  }

  get usable(): boolean {
    return !this.broken;
  }

  /** True when the memory is larger than the snapshot: such an instance is replaced, not restored. */
  get grown(): boolean {
    return this.memoryBytes > this.snapshot.byteLength;
  }

  /** Whether the instance is in its snapshot state, ready for a run without a restore. */
  get pristine(): boolean {
    return !this.dirty && !this.broken;
  }

  /**
   * Bring the instance back to its snapshot state (after a run, off the reply path). A no-op while
   * a run is in progress: that run started from a restored state, and its end is followed by
   * another restore.
   */
  restore(): void {
    if (this.broken) throw new Error("bash runtime: a broken instance cannot be restored");
    if (!this.dirty || this.running) return;
    const started = performance.now();
    this.snapshot.restore();
    this.restoreMs = performance.now() - started;
    this.dirty = false;
  }

  /** Run one job from the snapshot state (restoring first if the last run was not restored yet). */
  async run(job: GuestJob, pump: PumpControl): Promise<JobEnd> {
    if (this.broken) throw new Error("bash runtime: instance is broken");
    if (this.running) throw new Error("bash runtime: instance is already running");
    this.restore();
    this.dirty = true;
    this.running = true;
    this.control.interrupted = false;
    this.control.stop = () => false;
    const { cap } = this.quickjs;
    try {
      this.runtime.setMemoryLimit(job.memoryLimitBytes);
      this.api.reseed(job.seed);
      const end = await this.guestPhase(() =>
        this.startAndDrive(job, pump, () => {
          this.control.stop = pump.shouldStop;
          cap.enforce(job.memoryLimitBytes);
        }),
      );
      const memoryCapReached = cap.reached;
      cap.lift();
      this.control.stop = () => false;
      this.runtime.setMemoryLimit(-1);
      if (end !== "settled") return end === "stalled" ? { kind: "stalled" } : { kind: "interrupted" };
      return this.collect(memoryCapReached);
    } catch (error) {
      if (error instanceof GuestException && error.outOfMemory)
        return { kind: "out-of-memory", message: error.message };
      if (error instanceof GuestException && this.control.interrupted) return { kind: "interrupted" };
      throw error;
    } finally {
      cap.lift();
      this.control.stop = () => false;
      this.running = false;
    }
  }

  /**
   * What clones of this instance start from: its snapshot (shared, not copied) and its engine's
   * addresses. Clones are always made from the first instance's seed, so they never accumulate
   * the guest handles each generation binds.
   */
  seed(): BashSeed {
    return {
      image: this.snapshot.image,
      rt: (this.runtime as unknown as EngineAddresses).rt?.value,
      ctx: (this.context as unknown as EngineAddresses).ctx?.value,
    };
  }

  /**
   * Discard the instance. Nothing is freed inside QuickJS: the whole linear memory goes with the
   * WebAssembly instance once unreferenced (freeing the runtime first would only cost time, and
   * QuickJS asserts when handles held since the snapshot are still alive).
   */
  discard(): void {
    this.broken = true;
  }

  private async startAndDrive(job: GuestJob, pump: PumpControl, arm: () => void): Promise<PumpEnd> {
    this.api.start(job.requestJson, job.contents, arm);
    return drive(this.runtime, this.api, pump, () => this.control.interrupted);
  }

  /** Run guest code; host-level failures (traps, host stack overflow) break the instance. */
  private async guestPhase<T>(phase: () => Promise<T>): Promise<T> {
    try {
      return await phase();
    } catch (error) {
      if (error instanceof GuestException) throw error;
      this.broken = true;
      if (this.quickjs.cap.reached)
        throw new GuestException("InternalError", "out of memory (linear memory cap reached)");
      if (error instanceof RangeError && /call stack/i.test(error.message)) {
        throw new GuestException("InternalError", "out of memory (stack exhausted)");
      }
      const reason = this.quickjs.lastError();
      if (reason !== undefined && error instanceof Error) error.message = `${error.message} (${reason})`;
      throw error;
    }
  }

  private collect(memoryCapReached: boolean): JobEnd {
    const summary = this.api.summary();
    const files = summary.files.map((_, i) => this.api.file(i));
    return { kind: "settled", stdout: this.api.stdout(), stderr: this.api.stderr(), summary, files, memoryCapReached };
  }
}

function evaluate(context: QuickJSContext, source: string, filename: string): void {
  const result = context.evalCode(source, filename);
  if (result.error) {
    const detail: unknown = context.dump(result.error);
    result.error.dispose();
    throw new Error(`bash runtime: evaluating ${filename} failed: ${JSON.stringify(detail)}`);
  }
  result.value.dispose();
}

/** The calls every instance makes before evaluating anything: a clone must replay exactly these. */
function newEngine(quickjs: QuickJSInstance): { runtime: QuickJSRuntime; context: QuickJSContext } {
  const runtime = quickjs.module.newRuntime();
  runtime.setMaxStackSize(MAX_STACK_BYTES);
  return { runtime, context: runtime.newContext() };
}

/**
 * The engine's C addresses. quickjs-emscripten keeps them in protected fields; they are only read,
 * to check that a clone's engine sits where the snapshot's does.
 */
type EngineAddresses = { rt?: { value?: unknown }; ctx?: { value?: unknown } };

function sameEngineAddresses(seed: BashSeed, runtime: QuickJSRuntime, context: QuickJSContext): boolean {
  const rt = (runtime as unknown as EngineAddresses).rt?.value;
  const ctx = (context as unknown as EngineAddresses).ctx?.value;
  return typeof rt === "number" && typeof ctx === "number" && rt === seed.rt && ctx === seed.ctx;
}

/**
 * The rehearsal's script: the commands agents' shell code uses most, in pipelines, with its output
 * discarded. Each command's first use in an instance costs more than the next, and every run starts
 * from the snapshot. Measured against a seed without it, in one process, 150 alternating runs per
 * pair, 4 ms pauses: `echo hi | grep h | sed s/h/H/`, `jq .a`, `sort | uniq -c | wc -l` and a
 * `seq` loop 0.5-0.6 ms faster at p50, `echo hi` 0.14 ms; the snapshot kept its size. It costs the
 * boot ~50 ms (Liftoff only).
 */
export const REHEARSAL_SCRIPT = [
  "{",
  'printf "b\\na\\n" | sort | uniq | head -n 1 | tail -n 1 | tr a-z A-Z | cut -c1 | wc -l',
  'echo hi | grep h | sed s/h/H/ | awk "{print}" | cat',
  "echo '{\"a\":1}' | jq .a",
  "ls /",
  "date +%s",
  "echo x | base64 | base64 -d",
  "echo x | sha256sum",
  "seq 3 | xargs echo",
  "test -n x && [ 1 -eq 1 ]",
  "} > /dev/null",
].join("\n");

/** The rehearsal's request, its script aside: no files, the default limits. */
const REHEARSAL: Omit<GuestRequest, "script"> = {
  stdin: "",
  args: [],
  env: {},
  files: [],
  ...guestLimits(DEFAULT_LIMITS),
};

/** Longest the boot waits for the rehearsal (it takes ~50 ms). */
const REHEARSAL_TIMEOUT_MS = 30_000;

/**
 * The boot's rehearsal, before the snapshot: one run of `script` (REHEARSAL_SCRIPT) through the
 * same path as an execution (driver.ts `rehearse`), the script file removed afterwards. What
 * just-bash, its commands and the driver set up on first use then sits in the snapshot instead of
 * being redone by every run. It leaves no file, and a run's shell state (variables, functions,
 * working directory) is per exec in just-bash. Our own script: a failure means a broken bundle,
 * and the boot fails.
 */
async function rehearse(runtime: QuickJSRuntime, api: GuestApi, script: string): Promise<void> {
  const deadline = Date.now() + REHEARSAL_TIMEOUT_MS;
  api.rehearse(JSON.stringify({ ...REHEARSAL, script }));
  const end = await drive(
    runtime,
    api,
    { deadline, shouldStop: () => Date.now() >= deadline, http: () => NO_NETWORK_REPLY },
    () => false,
  );
  if (end !== "settled") throw new Error(`bash runtime: the boot's rehearsal did not settle (${end})`);
  api.endRehearsal();
}

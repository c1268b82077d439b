/**
 * One QuickJS instance with the shims and the just-bash bundle evaluated once, snapshotted, and
 * restored before every execution, so each execution starts from the same pristine state:
 * no variable, function, file or PRNG state survives from one execution into the next.
 *
 * An instance whose call trapped or overflowed the host stack is marked `broken`: its shadow stack
 * and engine state are unknown, so it is discarded instead of restored.
 */
import type { QuickJSContext, QuickJSRuntime } from "quickjs-emscripten";
import type { GuestSummary } from "./guest/protocol.js";
import { GuestApi, GuestException } from "./guest-api.js";
import { MemorySnapshot } from "./memory-snapshot.js";
import { drive, type PumpControl, type PumpEnd } from "./pump.js";
import { instantiateQuickJS, type QuickJSInstance } from "./quickjs-module.js";

/** QuickJS's own stack ceiling; deeper recursion throws a catchable InternalError inside QuickJS. */
export const MAX_STACK_BYTES = 256 * 1024;

export interface BashSources {
  readonly shims: string;
  readonly bundle: string;
}

export interface InstanceTimings {
  readonly evaluateMs: number;
  readonly snapshotBytes: number;
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
  private restoreMs = 0;

  private constructor(
    private readonly quickjs: QuickJSInstance,
    private readonly runtime: QuickJSRuntime,
    private readonly api: GuestApi,
    private readonly snapshot: MemorySnapshot,
    readonly timings: InstanceTimings,
    private readonly control: { stop: () => boolean; interrupted: boolean },
  ) {}

  static async create(wasmModule: WebAssembly.Module, sources: BashSources): Promise<BashInstance> {
    const quickjs = await instantiateQuickJS(wasmModule);
    const runtime = quickjs.module.newRuntime();
    runtime.setMaxStackSize(MAX_STACK_BYTES);
    const context = runtime.newContext();
    const started = performance.now();
    // Our own trusted code, evaluated before the interrupt handler exists (it would only cost time).
    evaluate(context, sources.shims, "shims.js");
    evaluate(context, sources.bundle, "just-bash.js");
    const api = GuestApi.bind(context);
    const evaluateMs = performance.now() - started;
    const control = { stop: () => false, interrupted: false };
    // The handler's C-side switch is part of the snapshot; its JS side reads `control` each run.
    runtime.setInterruptHandler(() => {
      if (!control.stop()) return false;
      control.interrupted = true;
      return true;
    });
    const snapshot = new MemorySnapshot(quickjs.memory);
    return new BashInstance(
      quickjs,
      runtime,
      api,
      snapshot,
      { evaluateMs, snapshotBytes: snapshot.byteLength },
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

  /** Restore the pristine state, run one job, and collect its results. */
  async run(job: GuestJob, pump: PumpControl): Promise<JobEnd> {
    if (this.broken) throw new Error("bash runtime: instance is broken");
    const restoreStarted = performance.now();
    this.snapshot.restore();
    this.restoreMs = performance.now() - restoreStarted;
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
    }
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

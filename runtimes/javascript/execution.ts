/**
 * One JavaScript execution inside a prepared QuickJS instance: the CommonJS-style main script, then
 * queued jobs and timers pumped in bounded slices with a host deadline check between them, then the
 * outcome. Limit hits reported by the bridge stop the guest at the next interrupt check.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import { type ExecutionRequest, SCRIPT_FILES } from "../../src/sandbox/types.js";
import type { RunContext, RunOutcome } from "../../src/sandbox/wasm/runtime.js";
import { GuestLimitError, isGuestLimitError } from "../../wasm/host/guest-limit.js";
import type { BridgeState, HostBridge } from "./host-bridge.js";
import { ABORTED_REPLY } from "./http-bridge.js";
import type { PreparedInstance } from "./instance.js";
import { SCRIPT_PATH } from "./prelude.js";
import { VirtualFs } from "./virtual-fs.js";

/** Pending jobs run in slices of this many, with a host deadline check between slices. */
const JOB_SLICE = 512;

type CallResult = ReturnType<QuickJSContext["evalCode"]>;
type Stop = { kind: "limit"; error: GuestLimitError } | { kind: "exit"; code: number };

/** One guest program run in one prepared instance. */
export class Execution {
  private stop: Stop | undefined;
  private readonly fs: VirtualFs;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  private readonly runtime: QuickJSRuntime;

  constructor(
    private readonly instance: PreparedInstance,
    private readonly request: ExecutionRequest,
    private readonly ctx: RunContext,
  ) {
    this.runtime = instance.runtime;
    this.fs = workspaceFor(request, ctx);
  }

  /** Runs the guest. The instance is discarded afterwards, so nothing is disposed here. */
  run(): RunOutcome {
    const { runtime, ctx, instance } = this;
    const { vm, bridge } = instance;
    runtime.setMemoryLimit(ctx.limits.memoryLimitBytes);
    runtime.setInterruptHandler(() => this.stop !== undefined || this.pastDeadline());
    bridge.state = this.bridgeState();
    const started = vm.callFunction(instance.start, vm.undefined);
    if (started.error) {
      started.error.dispose();
      throw new Error("javascript runtime failed to start");
    }
    let uncaught = this.runMain(vm, started.value);
    if (uncaught === undefined) uncaught = this.pump(vm, bridge);
    return this.outcome(vm, uncaught);
  }

  private bridgeState(): BridgeState {
    return {
      fs: this.fs,
      stdin: this.request.stdin,
      argv: ["node", SCRIPT_PATH, ...this.request.args],
      env: this.request.env,
      write: (fd, text) => {
        if (this.stop) return;
        (fd === 2 ? this.ctx.stderr : this.ctx.stdout).write(text);
      },
      // The context itself, not a copy: its deadline may move later while a human approves.
      http: (request) => (this.stop ? ABORTED_REPLY : this.ctx.http(request)),
      onLimit: (error) => {
        if (this.stop) return;
        this.stop = {
          kind: "limit",
          error: isGuestLimitError(error) ? error : new GuestLimitError("SANDBOX_VIOLATION", "host bridge failure"),
        };
      },
      onExit: (code) => {
        this.stop ??= { kind: "exit", code };
      },
    };
  }

  /**
   * Compiles the script as a CommonJS-style function and calls it with `moduleArgs` (what the
   * prelude's start() returned); returns the uncaught error's text.
   */
  private runMain(vm: QuickJSContext, moduleArgs: QuickJSHandle): string | undefined {
    const compiled = vm.evalCode(wrapScript(this.request.code), SCRIPT_PATH);
    if (compiled.error) {
      moduleArgs.dispose();
      return this.settle(vm, compiled);
    }
    const main = compiled.value;
    try {
      const args = [0, 1, 2, 3, 4].map((i) => vm.getProp(moduleArgs, i));
      const [exportsObject, ...rest] = args as [QuickJSHandle, ...QuickJSHandle[]];
      const result = vm.callFunction(main, exportsObject, exportsObject, ...rest);
      for (const arg of args) arg.dispose();
      return this.settle(vm, result);
    } finally {
      moduleArgs.dispose();
      main.dispose();
    }
  }

  /** Runs queued jobs and due timers in bounded slices until there is nothing left, or a stop. */
  private pump(vm: QuickJSContext, bridge: HostBridge): string | undefined {
    const hooks = bridge.hooks;
    for (;;) {
      while (this.runtime.hasPendingJob()) {
        if (this.stop || this.pastDeadline()) return undefined;
        const jobs = this.runtime.executePendingJobs(JOB_SLICE);
        if (jobs.error) {
          const message = this.stop ? undefined : describeError(vm, jobs.error);
          jobs.error.dispose();
          return message;
        }
      }
      if (this.stop || this.pastDeadline() || !hooks) return undefined;
      const { error, value: next } = this.settleNumber(vm, vm.callFunction(hooks.timerNext, vm.undefined));
      if (error !== undefined) return error;
      if (next === undefined || next < 0) return undefined;
      if (next > 0) {
        const wait = Math.min(next, this.ctx.deadline - Date.now());
        if (wait > 0) Atomics.wait(this.sleeper, 0, 0, wait);
        if (this.pastDeadline()) return undefined;
      }
      const fired = this.settle(vm, vm.callFunction(hooks.timerFire, vm.undefined));
      if (fired !== undefined) return fired;
    }
  }

  /** Disposes a call result; returns the uncaught error's text, or undefined when it succeeded. */
  private settle(vm: QuickJSContext, result: CallResult): string | undefined {
    return this.settleValue(vm, result, () => undefined).error;
  }

  /** Disposes a call result, reading its numeric value first. */
  private settleNumber(vm: QuickJSContext, result: CallResult): { error?: string; value?: number } {
    return this.settleValue(vm, result, (h) => (vm.typeof(h) === "number" ? vm.getNumber(h) : undefined));
  }

  private settleValue<T>(
    vm: QuickJSContext,
    result: CallResult,
    read: (handle: QuickJSHandle) => T | undefined,
  ): { error?: string; value?: T } {
    if (result.error) {
      const error = this.stop ? undefined : describeError(vm, result.error);
      result.error.dispose();
      return error === undefined ? {} : { error };
    }
    const value = read(result.value);
    result.value.dispose();
    return value === undefined ? {} : { value };
  }

  private outcome(vm: QuickJSContext, uncaught: string | undefined): RunOutcome {
    const files = this.fs.workspaceFiles();
    const stop = this.stop;
    if (stop?.kind === "limit") {
      return { exitCode: null, files, error: { code: stop.error.code, message: stop.error.message } };
    }
    if (stop?.kind !== "exit" && this.pastDeadline()) {
      return { exitCode: null, files, error: { code: "TIMEOUT", message: "execution exceeded its time limit" } };
    }
    if (uncaught !== undefined && /\bout of memory\b/.test(uncaught)) return this.memoryLimit();
    if (uncaught !== undefined) {
      this.writeStderr(`Uncaught ${uncaught}\n`);
      return { exitCode: 1, files, error: { code: "NON_ZERO_EXIT", message: "uncaught exception (exit status 1)" } };
    }
    const exitCode = stop?.kind === "exit" ? stop.code : this.guestExitCode(vm);
    if (exitCode !== 0) {
      return { exitCode, files, error: { code: "NON_ZERO_EXIT", message: `exited with status ${exitCode}` } };
    }
    return { exitCode, files };
  }

  memoryLimit(): RunOutcome {
    return memoryLimitOutcome(this.ctx, this.fs);
  }

  /** `process.exitCode` as the guest left it (0 when unset or not a number). */
  private guestExitCode(vm: QuickJSContext): number {
    const hooks = this.instance.bridge.hooks;
    if (!hooks) return 0;
    return this.settleNumber(vm, vm.callFunction(hooks.exitCode, vm.undefined)).value ?? 0;
  }

  private writeStderr(text: string): void {
    try {
      this.ctx.stderr.write(text);
    } catch (error) {
      if (!isGuestLimitError(error)) throw error;
    }
  }

  private pastDeadline(): boolean {
    return Date.now() >= this.ctx.deadline || this.ctx.cancelled();
  }
}

/** The outcome of an execution stopped at its memory limit (or refused one too small to start in). */
export function memoryLimitOutcome(ctx: RunContext, fs: VirtualFs): RunOutcome {
  return {
    exitCode: null,
    files: fs.workspaceFiles(),
    error: { code: "MEMORY_LIMIT", message: `memory limit of ${ctx.limits.memoryLimitBytes} bytes reached` },
  };
}

/** The guest's /workspace: the request's files and the script. */
export function workspaceFor(request: ExecutionRequest, ctx: RunContext): VirtualFs {
  const script = { path: SCRIPT_FILES.javascript, content: new TextEncoder().encode(request.code) };
  return new VirtualFs([...request.files, script], ctx.limits.maxFilesystemBytes);
}

/**
 * CommonJS-style wrapper like Node's: module-local `var`s, `module.exports`, top-level `return`.
 * The guest's first line stays on line 1 so stack traces point at the right line.
 */
function wrapScript(code: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
}

/** Text of a thrown guest value: "Name: message\n<stack>", computed from plain data only. */
function describeError(vm: QuickJSContext, error: QuickJSHandle): string {
  let dumped: unknown;
  try {
    dumped = vm.dump(error);
  } catch {
    return "Error: (unprintable value thrown)";
  }
  if (dumped !== null && typeof dumped === "object") {
    const record = dumped as Record<string, unknown>;
    const name = typeof record.name === "string" ? record.name : "Error";
    const message = typeof record.message === "string" ? record.message : "";
    const stack = typeof record.stack === "string" ? record.stack.replace(/\n$/, "") : "";
    return stack ? `${name}: ${message}\n${stack}` : `${name}: ${message}`;
  }
  return String(dumped);
}

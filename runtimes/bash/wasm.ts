/**
 * Bash on WebAssembly: the just-bash interpreter (TypeScript, bundled) running inside QuickJS.
 *
 * - `load()` (loader thread, once): reads the bundle built by runtimes/bash/bundle.ts and compiles
 *   QuickJS; meanwhile a child process with Liftoff only (src/sandbox/wasm/boot-process.ts, entry
 *   boot.ts) builds one QuickJS instance, evaluates shims + bundle, runs the rehearsal script
 *   (bash-instance.ts REHEARSAL_SCRIPT) and returns its snapshot, the seed.
 * - `createRunner()` (worker): its first instance is a clone of that seed (~25 ms, bash-instance.ts)
 *   instead of evaluating the bundle again in every worker (~0.8-1.2 s each, measured); if the clone
 *   does not match, the worker evaluates the bundle itself.
 * - `run()`: reseeds the PRNG, runs the script as `bash /workspace/main.sh ARGS...` would (without
 *   a second shell: guest/driver.ts scriptExec) with the request's files, env and stdin, then writes the output through the host's capped sinks and
 *   returns every workspace file. Right after the reply (setImmediate), the instance is restored
 *   to its snapshot, so the next request does not pay for it; an instance whose memory grew or
 *   whose run trapped is replaced instead, by a clone of the first instance's snapshot on a new
 *   memory (~25 ms, bash-instance.ts), also off the reply path.
 *
 * RunnerOptions (`SANDBOX_SPARES`) do not apply: a worker holds exactly one Bash instance, restored
 * in place, whatever the setting (a spare would be a second instance's memory for ~1 ms of restore).
 */
import { randomFillSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutionOutcome, ExecutionRequest, WorkspaceFile } from "../../src/sandbox/types.js";
import { WORKSPACE } from "../../src/sandbox/types.js";
import { runBootProcess } from "../../src/sandbox/wasm/boot-process.js";
import type {
  OutputSink,
  RunContext,
  Runner,
  RunOutcome,
  RuntimeAssets,
  WasmRuntime,
} from "../../src/sandbox/wasm/runtime.js";
import { isGuestLimitError } from "../../wasm/host/guest-limit.js";
import { BASH_BOOT_MODULE } from "../boot-entries.js";
import { runtimeBuildDirs } from "../build-dirs.js";
import { BashInstance, type BashSeed, type BashSources, type JobEnd } from "./bash-instance.js";
import { BUNDLE_FILE, SHIMS_FILE } from "./build-files.js";
import { guestLimits } from "./execution-limits.js";
import type { GuestRequest } from "./guest/protocol.js";
import { classifyFailure, classifySettled } from "./outcome.js";
import { compileQuickJS } from "./quickjs-module.js";

const JUST_BASH_VERSION = "3.4.2";
/** Where bundle.ts writes its output (see runtimeBuildDirs). */
const DEFAULT_BUILD_DIRS = runtimeBuildDirs(import.meta.url, "bash");

export interface BashWasmOptions {
  /** Where bundle.ts wrote just-bash.js and shims.js (default: see DEFAULT_BUILD_DIRS). */
  readonly buildDir?: string;
}

export function createBashWasmRuntime(options: BashWasmOptions = {}): WasmRuntime {
  const buildDirs = options.buildDir === undefined ? DEFAULT_BUILD_DIRS : [options.buildDir];
  return {
    language: "bash",
    info: { name: "just-bash", version: JUST_BASH_VERSION },
    async load() {
      const [bundle, shims] = await Promise.all([readBuilt(buildDirs, BUNDLE_FILE), readBuilt(buildDirs, SHIMS_FILE)]);
      const sources: BashSources = { bundle, shims };
      const seeded = runBootProcess<BashSeed>({ module: BASH_BOOT_MODULE, export: "bootBashSeed", args: [sources] });
      seeded.catch(() => undefined);
      const module = await compileQuickJS();
      return { module, bundle, shims, seed: await seeded };
    },
    async createRunner(assets: RuntimeAssets) {
      const { module, bundle, shims, seed } = assets;
      if (!(module instanceof WebAssembly.Module) || typeof bundle !== "string" || typeof shims !== "string") {
        throw new Error("bash runtime: assets are incomplete (module, bundle, shims)");
      }
      const runner = new BashRunner(module, { bundle, shims }, isBashSeed(seed) ? seed : undefined);
      await runner.ready();
      return runner;
    },
  };
}

export const bashWasmRuntime: WasmRuntime = createBashWasmRuntime();

/** The boot process's entry (boot.ts builds the seed): boot.ts, or boot.js when this file runs compiled. */
function isBashSeed(value: unknown): value is BashSeed {
  if (typeof value !== "object" || value === null) return false;
  const image = (value as { image?: unknown }).image;
  if (typeof image !== "object" || image === null) return false;
  const { byteLength, runs, data } = image as { byteLength?: unknown; runs?: unknown; data?: unknown };
  return typeof byteLength === "number" && runs instanceof Uint32Array && data instanceof Uint8Array;
}

async function readBuilt(dirs: readonly string[], name: string): Promise<string> {
  for (const dir of dirs) {
    try {
      return await readFile(join(dir, name), "utf8");
    } catch {
      // Try the next location.
    }
  }
  throw new Error(
    `bash runtime is not built: no ${name} in ${dirs.join(" or ")}; run \`npx tsx runtimes/bash/bundle.ts\``,
  );
}

export interface BashRunnerStats {
  /** Instances built so far (the first one, then one clone per replacement). */
  readonly instancesCreated: number;
  /** Whether the current instance is a clone (false: the first, evaluated instance). */
  readonly cloned: boolean;
  /** Linear memory of the current instance. */
  readonly memoryBytes: number;
  readonly snapshotBytes: number;
  /** Time to evaluate shims + bundle in the current instance. */
  readonly evaluateMs: number;
  /** Time the last snapshot restore took. */
  readonly lastRestoreMs: number;
}

export class BashRunner implements Runner {
  private instance: Promise<BashInstance>;
  private seed: Promise<BashSeed>;
  private created = 1;

  /** With `seed`, the first instance is a clone of it (evaluated here only if the clone does not match). */
  constructor(
    private readonly wasmModule: WebAssembly.Module,
    private readonly sources: BashSources,
    seed?: BashSeed,
  ) {
    this.instance = seed
      ? BashInstance.clone(wasmModule, seed).catch(() => BashInstance.create(wasmModule, sources))
      : BashInstance.create(wasmModule, sources);
    this.seed = this.instance.then((first) => (seed && first.timings.cloned ? seed : first.seed()));
    this.seed.catch(() => undefined);
  }

  /** Resolves once the first instance is built (or rejects if it cannot be). */
  async ready(): Promise<BashInstance> {
    return this.instance;
  }

  async run(request: ExecutionRequest, context: RunContext): Promise<RunOutcome> {
    const { limits } = context;
    let instance = await this.instance;
    const baseline = instance.timings.snapshotBytes;
    if (limits.memoryLimitBytes < baseline) {
      return failure(
        "MEMORY_LIMIT",
        `The memory limit (${limits.memoryLimitBytes} bytes) is below the bash runtime's baseline of ${baseline} bytes.`,
      );
    }
    // Normally done right after the previous run; here only if that has not happened yet.
    if (!instance.usable || instance.grown) instance = await this.replace(instance);
    const { limits: executionLimits, writableBytes } = guestLimits(limits);
    const guestRequest: GuestRequest = {
      script: request.code,
      stdin: request.stdin,
      args: request.args,
      env: request.env,
      files: request.files.map((f) => `${WORKSPACE}/${f.path}`),
      limits: executionLimits,
      writableBytes,
    };
    const seed = randomFillSync(new Uint32Array(4));
    let end: JobEnd;
    try {
      end = await instance.run(
        {
          requestJson: JSON.stringify(guestRequest),
          contents: request.files.map((f) => f.content),
          seed,
          memoryLimitBytes: limits.memoryLimitBytes,
        },
        {
          // Lazy: the deadline moves later while an HTTP request waits for a human.
          get deadline() {
            return context.deadline;
          },
          shouldStop: () => Date.now() >= context.deadline || context.cancelled(),
          http: (httpRequest) => context.http(httpRequest),
        },
      );
    } finally {
      this.afterRun(instance);
    }
    return this.toOutcome(end, context);
  }

  async stats(): Promise<BashRunnerStats> {
    const instance = await this.instance;
    return {
      instancesCreated: this.created,
      cloned: instance.timings.cloned,
      memoryBytes: instance.memoryBytes,
      snapshotBytes: instance.timings.snapshotBytes,
      evaluateMs: instance.timings.evaluateMs,
      lastRestoreMs: instance.lastRestoreMs,
    };
  }

  /**
   * Once the reply is on its way: restore the instance, or replace it when its memory grew (it
   * never shrinks, so a grown instance would give the next request more than its limit and show it
   * that an earlier execution used memory) or its run broke it.
   */
  private afterRun(instance: BashInstance): void {
    setImmediate(() => {
      void this.instance.then((current) => {
        if (current !== instance) return;
        if (instance.usable && !instance.grown) instance.restore();
        else void this.replace(instance).catch(() => undefined);
      });
    });
  }

  private replace(old: BashInstance): Promise<BashInstance> {
    old.discard();
    this.created++;
    const { wasmModule, sources } = this;
    // A clone needs the first instance's seed; if cloning fails, evaluate from scratch (slow, never weaker).
    this.instance = this.seed
      .then((seed) => BashInstance.clone(wasmModule, seed))
      .catch(() => BashInstance.create(wasmModule, sources));
    return this.instance;
  }

  private toOutcome(end: JobEnd, context: RunContext): RunOutcome {
    switch (end.kind) {
      case "interrupted":
        return Date.now() >= context.deadline
          ? failure("TIMEOUT", `The script did not finish within ${context.limits.timeoutMs} ms.`)
          : failure("TIMEOUT", "The execution was cancelled.");
      case "out-of-memory":
        return failure("MEMORY_LIMIT", `The script exceeded its memory limit (${end.message}).`);
      case "stalled":
        return failure("SANDBOX_FAULT", "just-bash stopped making progress with nothing left to wait for.");
      case "settled":
        break;
    }
    const files: WorkspaceFile[] = end.summary.files.map((path, i) => ({
      path,
      content: end.files[i] ?? new Uint8Array(0),
    }));
    // Both streams get their bytes up to the cap, even when the first one overflows.
    const stdoutLimit = writeAll(context.stdout, end.stdout);
    const stderrLimit = writeAll(context.stderr, end.stderr);
    const outputLimit = stdoutLimit ?? stderrLimit;
    if (outputLimit) return { exitCode: null, files, error: outputLimit };
    if (end.summary.failure) {
      return { exitCode: null, files, error: classifyFailure(end.summary.failure.name, end.summary.failure.message) };
    }
    if (end.summary.quotaExceeded) {
      const message = `The script tried to write more than its filesystem quota (${context.limits.maxFilesystemBytes} bytes).`;
      return { exitCode: end.summary.exitCode, files, error: { code: "FILESYSTEM_LIMIT", message } };
    }
    const error = classifySettled(end.summary.exitCode, new TextDecoder().decode(end.stderr), end.memoryCapReached);
    return error ? { exitCode: end.summary.exitCode, files, error } : { exitCode: end.summary.exitCode, files };
  }
}

/** Write to a capped sink; returns OUTPUT_LIMIT when the sink refused the bytes. */
function writeAll(sink: OutputSink, bytes: Uint8Array): ExecutionOutcome | undefined {
  if (bytes.byteLength === 0) return undefined;
  try {
    sink.write(bytes);
    return undefined;
  } catch (error) {
    if (isGuestLimitError(error) && error.code === "OUTPUT_LIMIT")
      return { code: "OUTPUT_LIMIT", message: error.message };
    throw error;
  }
}

function failure(code: ExecutionOutcome["code"], message: string): RunOutcome {
  return { exitCode: null, files: [], error: { code, message } };
}

/**
 * Test support: a bash runner built from a freshly bundled copy (in a temp dir, so test files never
 * race on runtimes/bash/build) and an in-process RunContext with capped sinks, as WasmSandbox's
 * worker provides them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GuestHttpReply, type GuestHttpRequest, NO_NETWORK_REPLY } from "../../src/sandbox/host-call.js";
import { DEFAULT_LIMITS, type Limits } from "../../src/sandbox/limits.js";
import type { ExecutionRequest } from "../../src/sandbox/types.js";
import type { OutputSink, RunOutcome } from "../../src/sandbox/wasm/runtime.js";
import { GuestLimitError } from "../../wasm/host/guest-limit.js";
import { buildBashBundle } from "./bundle.js";
import { type BashRunner, type BashWasmOptions, createBashWasmRuntime } from "./wasm.js";

export class CappedSink implements OutputSink {
  private readonly chunks: Uint8Array[] = [];
  private used = 0;
  truncated = false;

  constructor(private readonly capBytes: number) {}

  get length(): number {
    return this.used;
  }

  write(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    const n = Math.min(this.capBytes - this.used, bytes.byteLength);
    if (n > 0) this.chunks.push(bytes.slice(0, n));
    this.used += n;
    if (n < bytes.byteLength) {
      this.truncated = true;
      throw new GuestLimitError("OUTPUT_LIMIT", `output exceeded ${this.capBytes} bytes`);
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

export interface HarnessResult {
  readonly outcome: RunOutcome;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: { readonly stdout: boolean; readonly stderr: boolean };
  readonly durationMs: number;
  file(path: string): string | undefined;
}

export interface RunOptions {
  readonly request?: Partial<ExecutionRequest>;
  readonly limits?: Partial<Limits>;
  /** Cancel the run after this many milliseconds. */
  readonly cancelAfterMs?: number;
  /**
   * Answers the guest's HTTP requests synchronously, as the worker does (default: no network).
   * `run.extendDeadline(ms)` moves the deadline later, as the host does after waiting for a human.
   */
  readonly http?: (request: GuestHttpRequest, run: { extendDeadline(ms: number): void }) => GuestHttpReply;
}

export interface Harness {
  readonly runner: BashRunner;
  run(code: string, options?: RunOptions): Promise<HarnessResult>;
  close(): Promise<void>;
}

export async function createHarness(options: Omit<BashWasmOptions, "buildDir"> = {}): Promise<Harness> {
  const buildDir = await mkdtemp(join(tmpdir(), "bash-bundle-"));
  await buildBashBundle(buildDir);
  const runtime = createBashWasmRuntime({ ...options, buildDir });
  const runner = (await runtime.createRunner(await runtime.load())) as BashRunner;
  return {
    runner,
    async run(code, { request = {}, limits = {}, cancelAfterMs, http } = {}) {
      const resolved: Limits = { ...DEFAULT_LIMITS, timeoutMs: 10_000, ...limits };
      const stdout = new CappedSink(resolved.maxOutputBytes);
      const stderr = new CappedSink(resolved.maxOutputBytes);
      const started = Date.now();
      let deadline = started + resolved.timeoutMs;
      const control = {
        extendDeadline(ms: number) {
          deadline += ms;
        },
      };
      const outcome = await runner.run(
        { language: "bash", code, stdin: "", args: [], env: {}, files: [], ...request },
        {
          limits: resolved,
          get deadline() {
            return deadline;
          },
          stdout,
          stderr,
          cancelled: () => cancelAfterMs !== undefined && Date.now() - started >= cancelAfterMs,
          http: http === undefined ? () => NO_NETWORK_REPLY : (req) => http(req, control),
        },
      );
      return {
        outcome,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: { stdout: stdout.truncated, stderr: stderr.truncated },
        durationMs: Date.now() - started,
        file(path: string) {
          const found = outcome.files.find((f) => f.path === path);
          return found === undefined ? undefined : new TextDecoder().decode(found.content);
        },
      };
    },
    async close() {
      await rm(buildDir, { recursive: true, force: true });
    },
  };
}

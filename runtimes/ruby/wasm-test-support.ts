/**
 * Helpers for the Ruby runtime's tests: capped output sinks and a one-call `run`.
 */

import { NO_NETWORK_REPLY } from "../../src/sandbox/host-call.js";
import { DEFAULT_LIMITS, type Limits } from "../../src/sandbox/limits.js";
import type { ExecutionRequest, WorkspaceFile } from "../../src/sandbox/types.js";
import type { OutputSink, Runner, RunOutcome } from "../../src/sandbox/wasm/runtime.js";
import { GuestLimitError } from "../../wasm/host/guest-limit.js";

export class CaptureSink implements OutputSink {
  private readonly chunks: Uint8Array[] = [];
  length = 0;

  constructor(private readonly capBytes: number) {}

  write(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    const room = this.capBytes - this.length;
    if (bytes.byteLength > room) {
      this.chunks.push(bytes.slice(0, room));
      this.length = this.capBytes;
      throw new GuestLimitError("OUTPUT_LIMIT", `output exceeded ${this.capBytes} bytes`);
    }
    this.chunks.push(bytes.slice());
    this.length += bytes.byteLength;
  }

  text(): string {
    return new TextDecoder().decode(Buffer.concat(this.chunks));
  }
}

export interface RunResult extends RunOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  readonly stdin?: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly files?: readonly WorkspaceFile[];
  readonly limits?: Partial<Limits>;
}

export async function runRuby(runner: Runner, code: string, options: RunOptions = {}): Promise<RunResult> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const stdout = new CaptureSink(limits.maxOutputBytes);
  const stderr = new CaptureSink(limits.maxOutputBytes);
  const request: ExecutionRequest = {
    language: "ruby",
    code,
    stdin: options.stdin ?? "",
    args: options.args ?? [],
    env: options.env ?? {},
    files: options.files ?? [],
  };
  const deadline = Date.now() + limits.timeoutMs;
  const started = performance.now();
  const outcome = await runner.run(request, {
    limits,
    deadline,
    stdout,
    stderr,
    cancelled: () => Date.now() >= deadline,
    http: () => NO_NETWORK_REPLY,
  });
  return { ...outcome, stdout: stdout.text(), stderr: stderr.text(), ms: performance.now() - started };
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const fromUtf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/**
 * Runs a WasmRuntime's runner in the test's own thread, with the same shared output sinks the worker
 * uses, so runtime unit tests exercise the real adapter without the worker pool.
 */
import { type GuestHttpReply, type GuestHttpRequest, NO_NETWORK_REPLY } from "../../src/sandbox/host-call.js";
import { DEFAULT_LIMITS, type Limits } from "../../src/sandbox/limits.js";
import type { ExecutionRequest, Language } from "../../src/sandbox/types.js";
import type { Runner, RunOutcome, WasmRuntime } from "../../src/sandbox/wasm/runtime.js";
import { allocateSharedOutput, readSharedOutput, SharedOutputSink } from "../../src/sandbox/wasm/shared-output.js";

export interface InProcessResult extends RunOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: { stdout: boolean; stderr: boolean };
  readonly durationMs: number;
}

export async function createTestRunner(runtime: WasmRuntime): Promise<Runner> {
  return runtime.createRunner(await runtime.load());
}

export function request(language: Language, code: string, extra: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return { language, code, stdin: "", args: [], env: {}, files: [], ...extra };
}

export async function runInProcess(
  runner: Runner,
  req: ExecutionRequest,
  limits: Partial<Limits> = {},
  /** Answers the guest's HTTP calls (synchronously, as the worker does); default: no network. */
  http: (request: GuestHttpRequest) => GuestHttpReply = () => NO_NETWORK_REPLY,
): Promise<InProcessResult> {
  const merged: Limits = { ...DEFAULT_LIMITS, ...limits };
  const out = allocateSharedOutput(merged.maxOutputBytes);
  const err = allocateSharedOutput(merged.maxOutputBytes);
  const started = performance.now();
  const outcome = await runner.run(req, {
    limits: merged,
    deadline: Date.now() + merged.timeoutMs,
    stdout: new SharedOutputSink(out, 0),
    stderr: new SharedOutputSink(err, 0),
    cancelled: () => false,
    http,
  });
  const stdout = readSharedOutput(out, 0);
  const stderr = readSharedOutput(err, 0);
  return {
    ...outcome,
    stdout: stdout.text,
    stderr: stderr.text,
    truncated: { stdout: stdout.truncated, stderr: stderr.truncated },
    durationMs: performance.now() - started,
  };
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

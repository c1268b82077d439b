/**
 * One execution of a real interpreter, start to finish, shared by ProcessSandbox and NoopSandbox:
 * fresh workspace dir -> request files + script -> SafeEnv -> supervised process (deadline, output
 * caps, quota watch) -> files read back and diffed -> outcome -> workspace removed.
 * The caller decides how the interpreter is launched (under bwrap or bare) via `launch`.
 */
import { posix } from "node:path";
import { ServiceError } from "../../errors.js";
import type {
  ExecuteOptions,
  ExecutionOutcome,
  ExecutionRequest,
  ExecutionResult,
  RuntimeInfo,
  WorkspaceFile,
} from "../types.js";
import { SCRIPT_FILES } from "../types.js";
import { changedFiles, normaliseWorkspacePath } from "../workspace.js";
import { classifyEnd, outcome, type ProcessEnd } from "./outcome.js";
import { runSupervised, type SupervisedCommand } from "./run-process.js";
import type { ProcessRuntime } from "./runtime.js";
import { limitEnvFor } from "./runtime-tuning.js";
import { buildSafeEnv } from "./safe-env.js";
import {
  collectWorkspaceFiles,
  createWorkspaceDir,
  measureWorkspace,
  type Owner,
  overQuota,
  removeWorkspaceDir,
  writeWorkspaceFiles,
} from "./workspace-dir.js";

/** How often the workspace size is checked while the guest runs. */
export const QUOTA_CHECK_INTERVAL_MS = 200;

export interface LaunchContext {
  readonly hostDir: string;
  /** The runtime's argv (after the binary), with the script path as the guest sees it. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
}

export interface ExecutionPlan {
  readonly runtime: ProcessRuntime;
  readonly info: RuntimeInfo;
  readonly workspaceBaseDir: string;
  /** Host identity owning the workspace and running the guest; undefined to run as the server. */
  readonly owner: Owner | undefined;
  /** The workspace path as the guest sees it, given the host dir. */
  guestWorkspace(hostDir: string): string;
  /** PATH inside the guest. */
  readonly guestPath: string;
  launch(context: LaunchContext): SupervisedCommand;
  /** A failure of the sandbox itself (not the guest), recognised from how the process ended. */
  hostFault?(end: ProcessEnd): string | null;
}

export async function runExecution(
  plan: ExecutionPlan,
  request: ExecutionRequest,
  options: ExecuteOptions,
): Promise<ExecutionResult> {
  const { limits } = options;
  const inputs = asValidation(() => workspaceInputs(request));
  const inputBytes = inputs.reduce((sum, f) => sum + f.content.byteLength, 0);
  if (inputBytes > limits.maxFilesystemBytes) {
    return emptyResult(
      plan.info,
      outcome("FILESYSTEM_LIMIT", "The request's files and code exceed the filesystem quota; nothing was run."),
    );
  }

  const hostDir = await createWorkspaceDir(plan.workspaceBaseDir, plan.owner);
  try {
    await writeWorkspaceFiles(hostDir, inputs, plan.owner).catch((error: unknown) => {
      throw error instanceof RangeError ? new ServiceError("VALIDATION_FAILED", error.message) : error;
    });
    const guestDir = plan.guestWorkspace(hostDir);
    const env = buildSafeEnv({
      path: plan.guestPath,
      home: guestDir,
      requested: request.env,
      enforced: limitEnvFor(plan.runtime, limits),
    });
    const scriptPath = posix.join(guestDir, SCRIPT_FILES[request.language]);
    const command = plan.launch({
      hostDir,
      argv: plan.runtime.argv(scriptPath, request.args),
      env: env.env,
      stdin: request.stdin,
    });
    const max = limits.maxFilesystemBytes;
    const end = await runSupervised(command, limits, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      watch: {
        intervalMs: QUOTA_CHECK_INTERVAL_MS,
        check: async () => (overQuota(await measureWorkspace(hostDir, max), max) ? "FILESYSTEM_LIMIT" : null),
      },
    });
    const stdout = decodeOutput(end.stdout, end.truncated.stdout);
    const stderr = decodeOutput(end.stderr, end.truncated.stderr);
    const processEnd: ProcessEnd = { exitCode: end.exitCode, signal: end.signal, stoppedBy: end.stoppedBy, stderr };
    const collected = await collectWorkspaceFiles(hostDir, max);

    const fault = end.stoppedBy === null ? (plan.hostFault?.(processEnd) ?? null) : null;
    let error: ExecutionOutcome | undefined =
      fault === null ? classifyEnd(processEnd, limits) : outcome("SANDBOX_FAULT", fault);
    if (error === undefined && collected.overQuota) {
      error = outcome("FILESYSTEM_LIMIT", "The execution exceeded its filesystem quota.");
    }
    return {
      runtime: plan.info,
      exitCode: end.exitCode,
      stdout,
      stderr,
      truncated: end.truncated,
      files: collected.overQuota ? [] : changedFiles(inputs, collected.files),
      durationMs: end.durationMs,
      ...(error === undefined ? {} : { error }),
    };
  } finally {
    await removeWorkspaceDir(hostDir);
  }
}

/**
 * Decode guest output as UTF-8. When the cap cut a multi-byte character in half, the partial
 * character is dropped rather than turned into U+FFFD, so the text never exceeds the cap in bytes.
 */
export function decodeOutput(bytes: Buffer, truncated: boolean): string {
  if (!truncated) return bytes.toString("utf8");
  let end = bytes.length;
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    if (needed > back) end = bytes.length - back;
    break;
  }
  return bytes.subarray(0, end).toString("utf8");
}

/** A path the request should never have carried is a request error, not a host fault. */
function asValidation<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw error instanceof RangeError ? new ServiceError("VALIDATION_FAILED", error.message) : error;
  }
}

/** The request's files plus the script, de-duplicated by normalised path (the script wins). */
export function workspaceInputs(request: ExecutionRequest): WorkspaceFile[] {
  const byPath = new Map<string, WorkspaceFile>();
  for (const file of request.files) {
    const path = normaliseWorkspacePath(file.path);
    if (path === null) throw new RangeError(`workspace path escapes the workspace: ${file.path}`);
    byPath.set(path, { path, content: file.content });
  }
  const script = SCRIPT_FILES[request.language];
  byPath.set(script, { path: script, content: new TextEncoder().encode(request.code) });
  return [...byPath.values()];
}

function emptyResult(runtime: RuntimeInfo, error: ExecutionOutcome): ExecutionResult {
  return {
    runtime,
    exitCode: null,
    stdout: "",
    stderr: "",
    truncated: { stdout: false, stderr: false },
    files: [],
    durationMs: 0,
    error,
  };
}

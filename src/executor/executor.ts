/**
 * The sandbox step of the pipeline: choose the sandbox (fail closed: a sandbox that is not enabled
 * or not available, or lacks the language, refuses; there is never a fallback), run one prepared
 * request in it under resolved limits, and log the start and finish. Policy, secret scanning,
 * approvals and the audit timeline wrap this step (see pipeline.ts).
 */
import type { LimitPolicy } from "../config.js";
import { ServiceError } from "../errors.js";
import type { ExecuteResponse } from "../http/schemas.js";
import type { Logger } from "../logger.js";
import { randomBase64url } from "../random-ids.js";
import type { EffectHandler } from "../sandbox/host-call.js";
import type { Limits } from "../sandbox/limits.js";
import { languageState, type SandboxRegistry } from "../sandbox/registry.js";
import type {
  ExecutionRequest,
  ExecutionResult,
  Language,
  Sandbox,
  SandboxKind,
  WorkspaceFile,
} from "../sandbox/types.js";

export interface ExecutorOptions {
  readonly sandboxes: SandboxRegistry;
  readonly limits: LimitPolicy;
  readonly defaultSandbox: SandboxKind;
  readonly logger: Logger;
}

export interface ExecutionContext {
  readonly requestId: string;
  /** W3C trace id of the request, carried into every log line of the execution. */
  readonly traceId?: string;
  /** Name of the API key that asked (never the key itself). */
  readonly keyName?: string;
  readonly signal?: AbortSignal;
  /** Answers the guest's effects (HTTP egress); without it the guest has no network. */
  readonly effects?: EffectHandler;
}

export function newExecutionId(): string {
  return `exec_${randomBase64url(16)}`;
}

export class Executor {
  constructor(private readonly options: ExecutorOptions) {}

  get defaultSandbox(): SandboxKind {
    return this.options.defaultSandbox;
  }

  get limits(): LimitPolicy {
    return this.options.limits;
  }

  /**
   * The sandbox that will run `language` (available, or still loading: the sandbox then waits for
   * it); throws SANDBOX_UNAVAILABLE or RUNTIME_UNAVAILABLE (with the reason) otherwise.
   */
  select(requested: SandboxKind | undefined, language: Language): { kind: SandboxKind; sandbox: Sandbox } {
    const kind = requested ?? this.options.defaultSandbox;
    const sandbox = this.options.sandboxes.get(kind);
    if (!sandbox) {
      throw new ServiceError(
        "SANDBOX_UNAVAILABLE",
        `the ${kind} sandbox is not enabled on this server; nothing was run`,
      );
    }
    const availability = sandbox.availability();
    if (!availability.available) {
      throw new ServiceError("SANDBOX_UNAVAILABLE", `the ${kind} sandbox is unavailable: ${availability.reason}`);
    }
    // A language still loading is selected: the sandbox waits for its load, then runs it or refuses.
    const state = languageState(sandbox, language);
    if (state.state === "unavailable") {
      const elsewhere = this.options.sandboxes
        .all()
        .filter(
          (s) => s.kind !== kind && s.availability().available && languageState(s, language).state !== "unavailable",
        )
        .map((s) => s.kind);
      const hint = elsewhere.length > 0 ? ` (available on: ${elsewhere.join(", ")})` : "";
      throw new ServiceError(
        "RUNTIME_UNAVAILABLE",
        `${language} is not available on the ${kind} sandbox: ${state.reason}${hint}`,
      );
    }
    return { kind, sandbox };
  }

  /** Runs one request; guest failures come back as data, host faults reject. */
  async run(
    id: string,
    request: ExecutionRequest,
    requested: SandboxKind,
    limits: Limits,
    context: ExecutionContext,
  ): Promise<ExecutionResult> {
    const { kind, sandbox } = this.select(requested, request.language);
    const log = this.options.logger.child({
      requestId: context.requestId,
      executionId: id,
      ...(context.traceId ? { traceId: context.traceId } : {}),
      ...(context.keyName ? { keyName: context.keyName } : {}),
    });
    log.debug({ language: request.language, sandbox: kind, limits }, "execution started");
    const result = await sandbox.execute(request, {
      limits,
      ...(context.signal ? { signal: context.signal } : {}),
      ...(context.effects ? { effects: context.effects } : {}),
    });
    log.info(
      {
        exitCode: result.exitCode,
        outcome: result.error?.code ?? "OK",
        durationMs: result.durationMs,
        stdoutBytes: result.stdout.length,
        stderrBytes: result.stderr.length,
        files: result.files.length,
      },
      "execution finished",
    );
    return result;
  }
}

export function toResponse(
  id: string,
  language: ExecuteResponse["language"],
  sandbox: SandboxKind,
  result: ExecutionResult,
): ExecuteResponse {
  return {
    id,
    language,
    sandbox,
    runtime: result.runtime,
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    truncated: result.truncated,
    files: result.files.map(encodeFile),
    durationMs: result.durationMs,
    ...(result.error ? { error: result.error } : {}),
  };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function encodeFile(file: WorkspaceFile): ExecuteResponse["files"][number] {
  const size = file.content.byteLength;
  try {
    return { path: file.path, content: strictUtf8.decode(file.content), encoding: "utf8", size };
  } catch {
    return { path: file.path, content: Buffer.from(file.content).toString("base64"), encoding: "base64", size };
  }
}

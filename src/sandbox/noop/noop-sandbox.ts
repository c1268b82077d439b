/**
 * NoopSandbox: the real interpreters with NO isolation, for tests only. The guest runs as the
 * server's user, sees the whole host filesystem and network, and its workspace is a plain temp dir
 * (so the script path is that dir, not /workspace). What it keeps from ProcessSandbox (same code):
 * SafeEnv (never the server's env), the deadline and process-group kill, output caps, the workspace
 * quota, and RLIMIT_AS / RLIMIT_FSIZE / no core dumps when `prlimit` exists (no RLIMIT_NPROC: it
 * would count the server's own threads).
 */
import { tmpdir } from "node:os";
import { ServiceError } from "../../errors.js";
import { DEFAULT_SEARCH_PATH, findBinary } from "../process/host-binaries.js";
import { DEFAULT_OPEN_FILES, prlimitArgs } from "../process/rlimits.js";
import { runExecution } from "../process/run-execution.js";
import type { SupervisedCommand } from "../process/run-process.js";
import type { ProcessRuntime } from "../process/runtime.js";
import { addressSpaceFor } from "../process/runtime-tuning.js";
import { probeVersion } from "../process/versions.js";
import type {
  ExecuteOptions,
  ExecutionRequest,
  ExecutionResult,
  Language,
  Sandbox,
  SandboxAvailability,
  SandboxLanguage,
} from "../types.js";

/** The pino-compatible subset the sandbox needs. */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export interface NoopSandboxOptions {
  readonly runtimes: readonly ProcessRuntime[];
  readonly logger: WarnLogger;
  readonly searchPath?: readonly string[];
  /** null disables rlimits; undefined looks prlimit up on the search path. */
  readonly prlimitPath?: string | null;
  readonly workspaceBaseDir?: string;
}

interface ReadyRuntime {
  readonly runtime: ProcessRuntime;
  readonly hostPath: string;
  readonly language: SandboxLanguage;
}

export class NoopSandbox implements Sandbox {
  readonly kind = "noop" as const;
  private readonly ready = new Map<Language, ReadyRuntime>();
  private readonly searchPath: readonly string[];
  private readonly prlimitPath: string | null;
  private disposed = false;

  private constructor(private readonly options: NoopSandboxOptions) {
    options.logger.warn(
      { sandbox: "noop", isolation: "none" },
      "NoopSandbox constructed: guest code runs UNSANDBOXED as the server's user with full host access. For tests only; never expose it to untrusted code.",
    );
    this.searchPath = options.searchPath ?? DEFAULT_SEARCH_PATH;
    this.prlimitPath = options.prlimitPath === undefined ? findBinary("prlimit", this.searchPath) : options.prlimitPath;
  }

  static async create(options: NoopSandboxOptions): Promise<NoopSandbox> {
    const sandbox = new NoopSandbox(options);
    for (const runtime of options.runtimes) {
      const hostPath = findBinary(runtime.binary, sandbox.searchPath);
      if (hostPath === null) continue;
      const probe = await probeVersion(
        runtime,
        sandbox.command(hostPath, [...runtime.versionArgs], tmpdir(), {}, "", null),
      );
      if (!probe.ok) continue;
      sandbox.ready.set(runtime.language, {
        runtime,
        hostPath,
        language: { language: runtime.language, runtime: { name: runtime.name, version: probe.version } },
      });
    }
    return sandbox;
  }

  availability(): SandboxAvailability {
    if (this.disposed) return { available: false, reason: "the sandbox was disposed" };
    if (this.ready.size === 0) return { available: false, reason: "no interpreter found on this host" };
    return { available: true };
  }

  languages(): readonly SandboxLanguage[] {
    return this.disposed ? [] : [...this.ready.values()].map((r) => r.language);
  }

  async execute(request: ExecutionRequest, options: ExecuteOptions): Promise<ExecutionResult> {
    if (this.disposed) throw new ServiceError("SANDBOX_UNAVAILABLE");
    const ready = this.ready.get(request.language);
    if (ready === undefined) throw new ServiceError("RUNTIME_UNAVAILABLE");
    const limits = options.limits;
    return runExecution(
      {
        runtime: ready.runtime,
        info: ready.language.runtime,
        workspaceBaseDir: this.options.workspaceBaseDir ?? tmpdir(),
        owner: undefined,
        guestWorkspace: (hostDir) => hostDir,
        guestPath: this.searchPath.join(":"),
        launch: (ctx) =>
          this.command(ready.hostPath, ctx.argv, ctx.hostDir, ctx.env, ctx.stdin, {
            addressSpaceBytes: addressSpaceFor(ready.runtime, limits),
            fileSizeBytes: limits.maxFilesystemBytes,
          }),
      },
      request,
      options,
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.disposed = true;
  }

  private command(
    hostPath: string,
    argv: readonly string[],
    cwd: string,
    env: Readonly<Record<string, string>>,
    stdin: string,
    rlimits: { readonly addressSpaceBytes: number; readonly fileSizeBytes: number } | null,
  ): SupervisedCommand {
    const direct = [hostPath, ...argv];
    const wrapped =
      rlimits !== null && this.prlimitPath !== null
        ? [this.prlimitPath, ...prlimitArgs({ ...rlimits, maxProcesses: null, openFiles: DEFAULT_OPEN_FILES }, direct)]
        : direct;
    return {
      command: wrapped[0] as string,
      args: wrapped.slice(1),
      env,
      cwd,
      stdin,
      // prlimit execs the interpreter in place, so the spawned process is the guest either way.
      rootIsGuest: true,
    };
  }
}

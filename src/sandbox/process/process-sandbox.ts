/**
 * ProcessSandbox: runs the real interpreters (node, python3, ruby, bash) as child processes under
 * bubblewrap, limited by rlimits (prlimit), a host-side deadline, output caps and a workspace quota.
 *
 * Probed once when built: bwrap and prlimit must exist and bwrap must be able to build the sandbox
 * here (each interpreter's version is read *inside* it, so a language is listed only if it really
 * runs sandboxed). If the probe fails the sandbox reports itself unavailable and refuses every
 * execution; it never runs anything unsandboxed.
 *
 * `ProcessSandbox.start(options)` returns at once and probes in the background (the server serves
 * meanwhile: the probes spawn bwrap and every interpreter, 0.3-1 s of a 2-core machine's start that
 * the wasm languages were waiting behind; the server starts them once its wasm languages loaded). Like the wasm sandbox's languages, each language is
 * `loading` until the probes ended and an execution waits for them. `create(options)` also waits.
 * The interpreters are probed at the same time.
 */
import { accessSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { ServiceError } from "../../errors.js";
import type { Limits } from "../limits.js";
import { DEFAULT_LIMITS } from "../limits.js";
import type { LanguageStatus, LoadingSandbox } from "../registry.js";
import type {
  ExecuteOptions,
  ExecutionRequest,
  ExecutionResult,
  Language,
  Sandbox,
  SandboxAvailability,
  SandboxLanguage,
} from "../types.js";
import { WORKSPACE } from "../types.js";
import { buildBwrapArgs, encodeArgs, type SystemMount } from "./bwrap-args.js";
import {
  type BinaryMount,
  DEFAULT_ALLOWED_TOOLS,
  DEFAULT_SEARCH_PATH,
  findBinary,
  planBinaryMount,
  resolveBinaries,
  SANDBOX_BIN_DIR,
} from "./host-binaries.js";
import { canSwitchUser, HostIdentityPool } from "./host-identity.js";
import { createEtcDir, DEFAULT_LIBRARY_PATHS, type EtcDir, systemMounts } from "./host-layout.js";
import type { ProcessEnd } from "./outcome.js";
import { DEFAULT_MAX_PROCESSES, DEFAULT_OPEN_FILES, prlimitArgs } from "./rlimits.js";
import { runExecution } from "./run-execution.js";
import type { SupervisedCommand } from "./run-process.js";
import type { ProcessRuntime } from "./runtime.js";
import { addressSpaceFor } from "./runtime-tuning.js";
import { probeVersion } from "./versions.js";
import { createWorkspaceDir, type Owner, removeWorkspaceDir } from "./workspace-dir.js";

export const GUEST_PATH = `${SANDBOX_BIN_DIR}:/bin`;

export interface ProcessSandboxOptions {
  readonly runtimes: readonly ProcessRuntime[];
  /** Where bwrap / prlimit / interpreters / tools are looked up (never the server's PATH). */
  readonly searchPath?: readonly string[];
  readonly bwrapPath?: string;
  readonly prlimitPath?: string;
  /** Binaries visible next to the interpreter (deny by default beyond these). */
  readonly allowedTools?: readonly string[];
  /** Host library dirs shown read-only (or as the same symlinks). */
  readonly libraryPaths?: readonly string[];
  /** More host paths shown read-only at the same path (e.g. /usr/share/zoneinfo). */
  readonly extraReadOnlyPaths?: readonly string[];
  /** Where per-execution workspace dirs are created; must be traversable by the guest's host uid. */
  readonly workspaceBaseDir?: string;
  /** RLIMIT_NPROC: processes and threads per execution. */
  readonly maxProcesses?: number;
  readonly hostUidBase?: number;
  readonly hostUidPoolSize?: number;
}

interface ReadyRuntime {
  readonly runtime: ProcessRuntime;
  readonly binary: BinaryMount;
  readonly language: SandboxLanguage;
}

interface Setup {
  readonly bwrapPath: string;
  readonly prlimitPath: string;
  readonly etc: EtcDir;
  readonly mounts: readonly SystemMount[];
  readonly tools: readonly BinaryMount[];
}

export class ProcessSandbox implements Sandbox, LoadingSandbox {
  readonly kind = "process" as const;
  private readonly ready = new Map<Language, ReadyRuntime>();
  private readonly identities: HostIdentityPool | null;
  private readonly workspaceBaseDir: string;
  private readonly maxProcesses: number;
  private unavailableReason: string | null = null;
  private setup: Setup | null = null;
  private probing = true;
  private initialised: Promise<void> = Promise.resolve();
  private beginProbes = () => {};
  /** Why each configured runtime is missing, for diagnostics. */
  readonly skipped = new Map<Language, string>();

  private constructor(private readonly options: ProcessSandboxOptions) {
    this.identities = canSwitchUser() ? new HostIdentityPool(options.hostUidBase, options.hostUidPoolSize) : null;
    this.workspaceBaseDir = options.workspaceBaseDir ?? tmpdir();
    this.maxProcesses = options.maxProcesses ?? DEFAULT_MAX_PROCESSES;
  }

  /**
   * Returns at once; the probes run in the background (see the file comment), from when `after`
   * settles (default: now) or the first execution asks, whichever comes first: the server defers
   * them until its wasm languages loaded, which share the same cores.
   */
  static start(options: ProcessSandboxOptions, after: Promise<unknown> = Promise.resolve()): ProcessSandbox {
    const sandbox = new ProcessSandbox(options);
    let begin = () => {};
    const begun = new Promise<void>((resolve) => {
      begin = resolve;
    });
    sandbox.beginProbes = begin;
    void after.then(begin, begin);
    sandbox.initialised = begun
      .then(() => sandbox.initialise())
      .catch((error: unknown) => {
        sandbox.unavailableReason = `probing the sandbox failed: ${error instanceof Error ? error.message : String(error)}`;
      })
      .finally(() => {
        sandbox.probing = false;
      });
    return sandbox;
  }

  /** start(), then wait until the probes ended. */
  static async create(options: ProcessSandboxOptions): Promise<ProcessSandbox> {
    const sandbox = ProcessSandbox.start(options);
    await sandbox.loaded();
    return sandbox;
  }

  /** Resolves once the probes ended (never rejects). */
  loaded(): Promise<void> {
    return this.initialised;
  }

  availability(): SandboxAvailability {
    if (this.unavailableReason !== null) return { available: false, reason: this.unavailableReason };
    if (this.probing) return { available: true };
    if (this.ready.size === 0) return { available: false, reason: "no interpreter runs in the sandbox on this host" };
    return { available: true };
  }

  languages(): readonly SandboxLanguage[] {
    if (this.unavailableReason !== null) return [];
    return [...this.ready.values()].map((r) => r.language);
  }

  languageStates(): readonly LanguageStatus[] {
    return this.options.runtimes.map(({ language }): LanguageStatus => {
      if (this.unavailableReason !== null) return { language, state: "unavailable", reason: this.unavailableReason };
      if (this.probing) return { language, state: "loading" };
      const ready = this.ready.get(language);
      if (ready) return { language, state: "available", runtime: ready.language.runtime };
      return { language, state: "unavailable", reason: this.skipped.get(language) ?? "not probed" };
    });
  }

  async execute(request: ExecutionRequest, options: ExecuteOptions): Promise<ExecutionResult> {
    this.beginProbes();
    await this.initialised;
    const availability = this.availability();
    if (!availability.available || this.setup === null) {
      throw new ServiceError("SANDBOX_UNAVAILABLE", undefined, {
        reason: availability.available ? "not set up" : availability.reason,
      });
    }
    const ready = this.ready.get(request.language);
    if (ready === undefined) throw new ServiceError("RUNTIME_UNAVAILABLE");
    const setup = this.setup;
    const owner = this.identities?.acquire();
    try {
      return await runExecution(
        {
          runtime: ready.runtime,
          info: ready.language.runtime,
          workspaceBaseDir: this.workspaceBaseDir,
          owner,
          guestWorkspace: () => WORKSPACE,
          guestPath: GUEST_PATH,
          launch: (ctx) =>
            this.command(setup, ready.runtime, ready.binary, ctx.argv, {
              hostDir: ctx.hostDir,
              env: ctx.env,
              stdin: ctx.stdin,
              limits: options.limits,
              owner,
            }),
          hostFault: bwrapFault,
        },
        request,
        options,
      );
    } finally {
      if (owner !== undefined) this.identities?.release(owner);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.beginProbes();
    await this.initialised;
    await this.setup?.etc[Symbol.asyncDispose]();
    this.setup = null;
    this.unavailableReason = "the sandbox was disposed";
  }

  private async initialise(): Promise<void> {
    const searchPath = this.options.searchPath ?? DEFAULT_SEARCH_PATH;
    const bwrapPath = executableOrNull(this.options.bwrapPath) ?? findBinary("bwrap", searchPath);
    const prlimitPath = executableOrNull(this.options.prlimitPath) ?? findBinary("prlimit", searchPath);
    if (this.options.bwrapPath !== undefined && bwrapPath !== this.options.bwrapPath) {
      this.unavailableReason = `bwrap is not executable at ${this.options.bwrapPath}`;
      return;
    }
    if (bwrapPath === null) {
      this.unavailableReason = "bubblewrap (bwrap) is not installed";
      return;
    }
    if (prlimitPath === null) {
      this.unavailableReason = "prlimit (util-linux) is not installed";
      return;
    }
    const mounts: SystemMount[] = [
      ...systemMounts(this.options.libraryPaths ?? DEFAULT_LIBRARY_PATHS),
      ...systemMounts(this.options.extraReadOnlyPaths ?? []),
    ];
    const tools = resolveBinaries(this.options.allowedTools ?? DEFAULT_ALLOWED_TOOLS, searchPath);
    const etc = await createEtcDir();
    const setup: Setup = { bwrapPath, prlimitPath, etc, mounts, tools };
    this.setup = setup;

    // Every interpreter at once; the results are recorded in the runtimes' order.
    const probes = await Promise.all(
      this.options.runtimes.map(async (runtime) => {
        const real = findBinary(runtime.binary, searchPath);
        if (real === null) {
          return { found: false, runtime, missing: `${runtime.binary} not found on ${searchPath.join(":")}` } as const;
        }
        const binary = planBinaryMount(runtime.binary, real);
        return { found: true, runtime, binary, probe: await this.probe(setup, runtime, binary) } as const;
      }),
    );
    let sandboxFailure: string | null = null;
    for (const result of probes) {
      const { runtime } = result;
      if (!result.found) {
        this.skipped.set(runtime.language, result.missing);
        continue;
      }
      const { probe, binary } = result;
      if (!probe.ok) {
        this.skipped.set(runtime.language, `${probe.reason}: ${probe.stderr.trim().slice(0, 500)}`);
        if (probe.stderr.startsWith("bwrap:")) sandboxFailure = probe.stderr.trim().slice(0, 500);
        continue;
      }
      this.ready.set(runtime.language, {
        runtime,
        binary,
        language: { language: runtime.language, runtime: { name: runtime.name, version: probe.version } },
      });
    }
    if (this.ready.size === 0 && sandboxFailure !== null) {
      this.unavailableReason = `bubblewrap cannot create the sandbox here: ${sandboxFailure}`;
    }
  }

  private async probe(setup: Setup, runtime: ProcessRuntime, binary: BinaryMount) {
    const owner = this.identities?.acquire();
    const hostDir = await createWorkspaceDir(this.workspaceBaseDir, owner);
    try {
      const env = { PATH: GUEST_PATH, HOME: WORKSPACE, LANG: "C.UTF-8" };
      return await probeVersion(
        runtime,
        this.command(setup, runtime, binary, [...runtime.versionArgs], {
          hostDir,
          env,
          stdin: "",
          limits: DEFAULT_LIMITS,
          owner,
        }),
      );
    } finally {
      await removeWorkspaceDir(hostDir);
      if (owner !== undefined) this.identities?.release(owner);
    }
  }

  /** prlimit [rlimits] -- bwrap --args 3, with bwrap's arguments (incl. the env) sent over fd 3, off the command line. */
  private command(
    setup: Setup,
    runtime: ProcessRuntime,
    binary: BinaryMount,
    argv: readonly string[],
    ctx: {
      readonly hostDir: string;
      readonly env: Readonly<Record<string, string>>;
      readonly stdin: string;
      readonly limits: Limits;
      readonly owner: Owner | undefined;
    },
  ): SupervisedCommand {
    const binaries = [binary, ...setup.tools.filter((t) => t.name !== binary.name)];
    const bwrapArgs = buildBwrapArgs({
      workspaceHostDir: ctx.hostDir,
      systemMounts: setup.mounts,
      binaries,
      etcFiles: setup.etc.files,
      tmpSizeBytes: ctx.limits.maxFilesystemBytes,
      env: ctx.env,
      command: [`${SANDBOX_BIN_DIR}/${binary.name}`, ...argv],
    });
    const args = prlimitArgs(
      {
        addressSpaceBytes: addressSpaceFor(runtime, ctx.limits),
        maxProcesses: this.maxProcesses,
        fileSizeBytes: ctx.limits.maxFilesystemBytes,
        openFiles: DEFAULT_OPEN_FILES,
      },
      [setup.bwrapPath, "--args", "3", ...bwrapArgs.command],
    );
    return {
      command: setup.prlimitPath,
      args,
      env: {},
      cwd: "/",
      ...(ctx.owner === undefined ? {} : { uid: ctx.owner.uid, gid: ctx.owner.gid }),
      stdin: ctx.stdin,
      fd3: encodeArgs(bwrapArgs.options),
      rootIsGuest: false,
    };
  }
}

function executableOrNull(path: string | undefined): string | null {
  if (path === undefined) return null;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

/** bwrap exits 1 with "bwrap: ..." on stderr when it cannot build the sandbox (the guest never ran). */
export function bwrapFault(end: ProcessEnd): string | null {
  if (end.exitCode === 1 && end.stderr.startsWith("bwrap: ")) {
    return "bubblewrap could not set up the sandbox; nothing was run.";
  }
  return null;
}

export type { ProcessRuntime };

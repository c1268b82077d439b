import type { OutcomeCode } from "../errors.js";
import type { EffectHandler } from "./host-call.js";
import type { Limits } from "./limits.js";

export const LANGUAGES = ["javascript", "ruby", "python", "bash"] as const;
export type Language = (typeof LANGUAGES)[number];

export const SANDBOX_KINDS = ["wasm", "process", "noop"] as const;
export type SandboxKind = (typeof SANDBOX_KINDS)[number];

/** The guest's working directory in every sandbox. */
export const WORKSPACE = "/workspace";

/** A file inside the workspace. `path` is relative to WORKSPACE, normalised, never leaving it. */
export interface WorkspaceFile {
  readonly path: string;
  readonly content: Uint8Array;
}

/** What a sandbox is asked to run. Validated and normalised before it reaches a sandbox. */
export interface ExecutionRequest {
  readonly language: Language;
  readonly code: string;
  readonly stdin: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly files: readonly WorkspaceFile[];
}

export interface ExecutionOutcome {
  readonly code: OutcomeCode;
  readonly message: string;
}

export interface RuntimeInfo {
  readonly name: string;
  readonly version: string;
}

/**
 * What a sandbox returns. Guest failures (exceptions, non-zero exit, limit hits) are data here;
 * a sandbox throws only for host faults.
 */
export interface ExecutionResult {
  readonly runtime: RuntimeInfo;
  /** null when the guest was killed before it exited. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: { readonly stdout: boolean; readonly stderr: boolean };
  /** Files created or changed under the workspace. */
  readonly files: readonly WorkspaceFile[];
  readonly durationMs: number;
  readonly error?: ExecutionOutcome;
}

export interface ExecuteOptions {
  readonly limits: Limits;
  readonly signal?: AbortSignal;
  /** Answers the guest's effects (HTTP); without it the guest has no network. */
  readonly effects?: EffectHandler;
}

export interface SandboxLanguage {
  readonly language: Language;
  readonly runtime: RuntimeInfo;
}

export type SandboxAvailability = { readonly available: true } | { readonly available: false; readonly reason: string };

export interface Sandbox extends AsyncDisposable {
  readonly kind: SandboxKind;
  /** Whether this sandbox can run anything on this host, and why not. */
  availability(): SandboxAvailability;
  /** The languages this sandbox can run right now. */
  languages(): readonly SandboxLanguage[];
  /**
   * Run one execution in a fresh interpreter. Resolves with the outcome of the guest, including
   * limit hits; rejects only when the host itself failed.
   */
  execute(request: ExecutionRequest, options: ExecuteOptions): Promise<ExecutionResult>;
}

/** Where each language's code is written inside the workspace (tracebacks name this file). */
export const SCRIPT_FILES: Readonly<Record<Language, string>> = Object.freeze({
  javascript: "main.js",
  ruby: "main.rb",
  python: "main.py",
  bash: "main.sh",
});

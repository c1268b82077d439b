/**
 * The contract between ProcessSandbox and a language runtime (`runtimes/<language>/process.ts`):
 * which real interpreter runs the script, and how.
 */
import type { Limits } from "../limits.js";
import type { Language } from "../types.js";

export interface ProcessRuntime {
  readonly language: Language;
  /** Interpreter name, e.g. "ruby". */
  readonly name: string;
  /** Binary looked up on the host PATH at startup; the language is unavailable when it is missing. */
  readonly binary: string;
  /** argv after the binary, given the script's absolute path inside the sandbox and the request args. */
  argv(scriptPath: string, args: readonly string[]): string[];
  /** Arguments that make the binary print its version, and how to read it from stdout+stderr. */
  readonly versionArgs: readonly string[];
  parseVersion(output: string): string;
  /**
   * RLIMIT_AS for this runtime given the limits; defaults to `limits.memoryLimitBytes`. For
   * interpreters that reserve far more address space than they use (V8 reserves ~750 MiB before
   * running a line): they cap their heap through `limitEnv` and ask for a larger ceiling here.
   */
  addressSpaceBytes?(limits: Limits): number;
  /** Environment the sandbox sets after the request's (the request cannot override it). */
  limitEnv?(limits: Limits): Readonly<Record<string, string>>;
}

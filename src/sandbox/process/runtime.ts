/**
 * The contract between ProcessSandbox and a language runtime (`runtimes/<language>/process.ts`):
 * which real interpreter runs the script, and how.
 */
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
}

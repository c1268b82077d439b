/**
 * Bash under ProcessSandbox: the host's real bash (`bash --noprofile --norc main.sh args`).
 * Only the allowlisted tools are visible on PATH inside the sandbox. Memory: RLIMIT_AS = memoryLimitBytes.
 */
import type { ProcessRuntime } from "../../src/sandbox/process/runtime.js";

export const bashProcessRuntime: ProcessRuntime = Object.freeze({
  language: "bash",
  name: "bash",
  binary: "bash",
  argv(scriptPath: string, args: readonly string[]): string[] {
    return ["--noprofile", "--norc", scriptPath, ...args];
  },
  versionArgs: ["--version"],
  parseVersion(output: string): string {
    return /version (\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1] ?? output.trim();
  },
});

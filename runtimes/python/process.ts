/**
 * Python under ProcessSandbox: Debian's python3 (`python3 -B -E -s main.py args`).
 *
 * - `-E`: ignore PYTHON* variables (PYTHONPATH, PYTHONSTARTUP, ...) from the request's env.
 * - `-s`: no user site-packages (HOME is the workspace; nothing there is imported implicitly).
 * - `-B`: no __pycache__ written into the workspace (it would show up as output files).
 * Not `-I`: it implies `-P`, dropping the script's dir from sys.path, so a module passed in the
 * request's files could not be imported. Not `-S`: `site` provides exit()/quit(), which guest code
 * commonly calls; the stdlib stays usable either way. Memory: RLIMIT_AS = memoryLimitBytes.
 */
import type { ProcessRuntime } from "../../src/sandbox/process/runtime.js";

export const pythonProcessRuntime: ProcessRuntime = Object.freeze({
  language: "python",
  name: "python",
  binary: "python3",
  argv(scriptPath: string, args: readonly string[]): string[] {
    return ["-B", "-E", "-s", scriptPath, ...args];
  },
  versionArgs: ["--version"],
  parseVersion(output: string): string {
    return /Python (\d+\.\d+\.\d+\S*)/.exec(output)?.[1] ?? output.trim();
  },
});

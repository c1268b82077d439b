/**
 * The real `ruby` binary for ProcessSandbox: `ruby -EUTF-8 -- <script> args...`.
 * `-EUTF-8` matches the WASM runtime (whose interpreter is booted with the same switch), so both read
 * files as UTF-8 whatever the (empty) locale; `--` keeps request arguments from being read as switches.
 */
import type { ProcessRuntime } from "../../src/sandbox/process/runtime.js";

export const RUBY_PROCESS_SWITCHES = ["-EUTF-8", "--"] as const;

export const rubyProcessRuntime: ProcessRuntime = {
  language: "ruby",
  name: "ruby",
  binary: "ruby",
  argv(scriptPath: string, args: readonly string[]): string[] {
    return [...RUBY_PROCESS_SWITCHES, scriptPath, ...args];
  },
  versionArgs: ["--version"],
  parseVersion(output: string): string {
    const match = /\bruby (\d+\.\d+\.\d+)/.exec(output);
    if (!match?.[1]) throw new Error(`cannot read a Ruby version from ${JSON.stringify(output.slice(0, 200))}`);
    return match[1];
  },
};

/**
 * JavaScript under ProcessSandbox: the host's real node (`node main.js args`), CommonJS by default.
 *
 * Memory: V8 reserves roughly 750 MiB of address space before running a line (code range, heap
 * reservations), so RLIMIT_AS = memoryLimitBytes would stop node from starting. The heap is capped
 * by V8 itself (`--max-old-space-size` = memoryLimitBytes, set through NODE_OPTIONS which the request
 * cannot override), and RLIMIT_AS = memoryLimitBytes + 1 GiB stays as the hard backstop for
 * everything else (buffers, native allocations). Resident memory can therefore exceed the limit by
 * V8's young generation and native memory, bounded by the address-space cap.
 */
import type { Limits } from "../../src/sandbox/limits.js";
import type { ProcessRuntime } from "../../src/sandbox/process/runtime.js";

const MiB = 1024 * 1024;
export const NODE_ADDRESS_SPACE_HEADROOM_BYTES = 1024 * MiB;

export const javascriptProcessRuntime: ProcessRuntime = Object.freeze({
  language: "javascript",
  name: "node",
  binary: "node",
  argv(scriptPath: string, args: readonly string[]): string[] {
    return [scriptPath, ...args];
  },
  versionArgs: ["--version"],
  parseVersion(output: string): string {
    return /v?(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? output.trim();
  },
  addressSpaceBytes(limits: Limits): number {
    return limits.memoryLimitBytes + NODE_ADDRESS_SPACE_HEADROOM_BYTES;
  },
  limitEnv(limits: Limits): Readonly<Record<string, string>> {
    const heapMiB = Math.max(16, Math.floor(limits.memoryLimitBytes / MiB));
    return { NODE_OPTIONS: `--max-old-space-size=${heapMiB}` };
  },
});

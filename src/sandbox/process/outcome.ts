/**
 * Turning how a guest process ended into a stable outcome code.
 *
 * Order: a stop we caused (deadline, cancellation, output cap, quota) wins; then how the process
 * died; then the exit status. bwrap reports a guest killed by signal N as exit status 128+N, so
 * statuses above 128 are read as signals too.
 *
 * Memory exhaustion is detected by heuristics, documented here because they can be wrong:
 * - the guest died of SIGKILL that we did not send (the kernel's OOM killer), or
 * - it exited non-zero and its stderr carries an interpreter's out-of-memory message:
 *   V8 "JavaScript heap out of memory" / "Fatal process out of memory" / "Fatal process OOM",
 *   Python "MemoryError", Ruby "NoMemoryError" / "failed to allocate memory",
 *   bash "xmalloc/xrealloc: cannot allocate",
 *   node "Array buffer allocation failed" (a Buffer refused by RLIMIT_AS), or libc's "Cannot allocate memory" (ENOMEM).
 * A guest can print such a message itself and exit non-zero; it then gets MEMORY_LIMIT instead of
 * NON_ZERO_EXIT, which misreports its own failure and nothing else.
 * File size: SIGXFSZ (RLIMIT_FSIZE), or "File too large" (EFBIG, Python ignores SIGXFSZ) -> FILESYSTEM_LIMIT.
 */
import { constants } from "node:os";
import type { ErrorCode } from "../../errors.js";
import type { ExecutionOutcome } from "../types.js";
import type { StopReason } from "./run-process.js";

export const OUT_OF_MEMORY_PATTERNS: readonly RegExp[] = Object.freeze([
  /JavaScript heap out of memory/,
  /Fatal process out of memory/i,
  /Fatal process OOM/,
  /(^|\n)MemoryError\b/,
  /\bNoMemoryError\b/,
  /failed to allocate memory/,
  /x(malloc|realloc): .*cannot allocate/,
  /Array buffer allocation failed/,
  /Cannot allocate memory/,
]);

const FILE_TOO_LARGE = /File too large|\[Errno 27\]|EFBIG/;

/** The outcome codes a process sandbox produces. */
export type ProcessOutcomeCode = Extract<
  ErrorCode,
  "TIMEOUT" | "MEMORY_LIMIT" | "OUTPUT_LIMIT" | "FILESYSTEM_LIMIT" | "NON_ZERO_EXIT" | "SANDBOX_FAULT"
>;

/**
 * Build an outcome. The cast works around src/errors.ts: `define()` widens `outcome` to boolean, so
 * `OutcomeCode` currently resolves to `never` (reported to the lead); every code here is an outcome.
 */
export function outcome(code: ProcessOutcomeCode, message: string): ExecutionOutcome {
  return { code, message };
}

export interface ProcessEnd {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stoppedBy: StopReason | null;
  /** The guest's stderr (possibly truncated); only read, never echoed into messages. */
  readonly stderr: string;
}

/** The signal number a process died of, from the signal name or a 128+N status. */
export function deathSignal(end: Pick<ProcessEnd, "exitCode" | "signal">): number | null {
  if (end.signal !== null) return constants.signals[end.signal] ?? null;
  if (end.exitCode !== null && end.exitCode > 128 && end.exitCode < 128 + 65) return end.exitCode - 128;
  return null;
}

export function classifyEnd(end: ProcessEnd, limits: { readonly timeoutMs: number }): ExecutionOutcome | undefined {
  switch (end.stoppedBy) {
    case "TIMEOUT":
      return outcome("TIMEOUT", `The execution exceeded its time limit of ${limits.timeoutMs} ms and was stopped.`);
    case "CANCELLED":
      return outcome("TIMEOUT", "The execution was cancelled by the host before it finished.");
    case "OUTPUT_LIMIT":
      return outcome("OUTPUT_LIMIT", "The execution exceeded its output limit and was stopped.");
    case "FILESYSTEM_LIMIT":
      return outcome("FILESYSTEM_LIMIT", "The execution exceeded its filesystem quota and was stopped.");
    case null:
      break;
  }
  const signal = deathSignal(end);
  if (signal === constants.signals.SIGXFSZ) {
    return outcome("FILESYSTEM_LIMIT", "The execution wrote a file larger than its filesystem quota.");
  }
  if (signal === constants.signals.SIGKILL) {
    return outcome(
      "MEMORY_LIMIT",
      "The execution was killed by the system, most likely for exceeding its memory limit.",
    );
  }
  const failed = end.exitCode !== 0 || end.signal !== null;
  if (!failed) return undefined;
  if (OUT_OF_MEMORY_PATTERNS.some((p) => p.test(end.stderr))) {
    return outcome("MEMORY_LIMIT", "The execution exceeded its memory limit.");
  }
  if (FILE_TOO_LARGE.test(end.stderr)) {
    return outcome("FILESYSTEM_LIMIT", "The execution wrote a file larger than its filesystem quota.");
  }
  if (signal !== null) {
    return outcome("NON_ZERO_EXIT", `The code was terminated by signal ${signal}.`);
  }
  return outcome("NON_ZERO_EXIT", `The code exited with status ${end.exitCode}.`);
}

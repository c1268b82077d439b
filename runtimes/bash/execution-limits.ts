/**
 * just-bash's own execution limits for one run, derived from the request's Limits.
 *
 * Base: just-bash's "hardened" profile. Changed from it:
 * - compute counters (loop iterations, command count, awk/sed/jq iterations, work units) are lifted:
 *   the host deadline (QuickJS interrupt, then worker termination) is the compute limit, so an
 *   endless loop ends as TIMEOUT, as it does under ProcessSandbox, not after 10,000 iterations;
 * - byte limits are scaled to the memory limit so a runaway string or array hits just-bash's limit
 *   (reported as MEMORY_LIMIT) before the QuickJS heap is exhausted;
 * - output: just-bash counts every byte any command writes (to stdout, into a pipe, into a file)
 *   against one budget, and buffers stdout until the script ends. The budget is twice the host's
 *   output cap plus 16 KiB, so a stdout flood stops early and still overflows the host sink
 *   (OUTPUT_LIMIT). The price: a script that pipes or writes more than that budget also ends with
 *   OUTPUT_LIMIT (see README);
 * - just-bash's own wall clock is set past the host deadline: the host decides TIMEOUT.
 * Structural limits (call depth 100, brace expansion 10,000 results, substitution depth, ...) stay
 * hardened: they end the script with status 126 and a message, like bash's own limits.
 */

import type { Limits } from "../../src/sandbox/limits.js";
import type { ExecutionLimits } from "./guest/protocol.js";

/** Large enough never to bind before the deadline. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;
const OUTPUT_SLACK_BYTES = 16 * 1024;

export interface GuestLimits {
  readonly limits: ExecutionLimits;
  /** Bytes the script may add to its filesystem (the guest driver enforces it as a quota). */
  readonly writableBytes: number;
}

export function guestLimits(limits: Limits): GuestLimits {
  const memory = limits.memoryLimitBytes;
  const stringBytes = Math.max(64 * 1024, Math.floor(memory / 16));
  const outputBytes = 2 * limits.maxOutputBytes + OUTPUT_SLACK_BYTES;
  return {
    writableBytes: limits.maxFilesystemBytes,
    limits: {
      maxLoopIterations: UNBOUNDED,
      maxCommandCount: UNBOUNDED,
      maxAwkIterations: UNBOUNDED,
      maxSedIterations: UNBOUNDED,
      maxJqIterations: UNBOUNDED,
      maxWorkUnits: UNBOUNDED,
      maxStringLength: stringBytes,
      maxHeredocSize: stringBytes,
      maxLiveBytes: Math.floor(memory / 4),
      maxInputBytes: Math.floor(memory / 8),
      maxArchiveBytes: Math.floor(memory / 4),
      maxArchiveCompressedBytes: Math.floor(memory / 8),
      maxArchiveEntryBytes: Math.floor(memory / 8),
      maxOutputSize: outputBytes,
      maxExecutionTimeMs: limits.timeoutMs + limits.killGraceMs + 1_000,
    },
  };
}

/**
 * How a settled just-bash run maps onto an execution outcome.
 *
 * just-bash reports its own limit hits as exit status 126 plus a message on stderr (its
 * ExecutionLimitError is not exported from the browser bundle, so the message is what we can see).
 * Only the last stderr line of a status-126 exit is examined, and only the limits that stand in for
 * a host limit are mapped: byte limits derived from memoryLimitBytes -> MEMORY_LIMIT, the output
 * bound -> OUTPUT_LIMIT, the filesystem quota -> FILESYSTEM_LIMIT, QuickJS running out of heap ->
 * MEMORY_LIMIT, and so does any failing exit after the host refused to grow linear memory. A guest
 * can fake such a line; it then only misreports its own failure.
 * Structural limits (call depth, brace expansion, ...) stay NON_ZERO_EXIT with status 126, as bash's
 * own limits would.
 */
import type { OutcomeCode } from "../../src/errors.js";
import type { ExecutionOutcome } from "../../src/sandbox/types.js";

interface Rule {
  readonly code: OutcomeCode;
  readonly pattern: RegExp;
}

const LIMIT_RULES: readonly Rule[] = [
  { code: "OUTPUT_LIMIT", pattern: /output size (limit )?exceeded|maxOutputSize/i },
  { code: "FILESYSTEM_LIMIT", pattern: /filesystem byte limit exceeded|ENOSPC/i },
  {
    code: "MEMORY_LIMIT",
    pattern:
      /out of memory|string length limit exceeded|string concatenation size limit|live byte limit exceeded|heredoc size limit|input (byte|size) limit exceeded|maxStringLength|maxLiveBytes|maxInputBytes|maxHeredocSize/i,
  },
];

/** Status just-bash uses for its execution limits (and bash for "cannot execute"). */
export const LIMIT_EXIT_STATUS = 126;

export function classifySettled(
  exitCode: number,
  stderr: string,
  memoryCapReached = false,
): ExecutionOutcome | undefined {
  if (exitCode === 0) return undefined;
  if (memoryCapReached) {
    return {
      code: "MEMORY_LIMIT",
      message: `The script ran out of memory (exit status ${exitCode}): ${lastLine(stderr)}`,
    };
  }
  if (exitCode === LIMIT_EXIT_STATUS || /out of memory/i.test(lastLine(stderr))) {
    const line = lastLine(stderr);
    for (const rule of LIMIT_RULES) {
      if (rule.pattern.test(line)) return { code: rule.code, message: line };
    }
  }
  return { code: "NON_ZERO_EXIT", message: `The script exited with status ${exitCode}.` };
}

/** An exception that escaped just-bash's exec (it normally reports errors as exit statuses). */
export function classifyFailure(name: string, message: string): ExecutionOutcome {
  if (/out of memory/i.test(message)) return { code: "MEMORY_LIMIT", message };
  if (/ENOSPC|filesystem byte limit/i.test(message)) return { code: "FILESYSTEM_LIMIT", message };
  return { code: "SANDBOX_FAULT", message: `just-bash failed: ${name}: ${message}` };
}

function lastLine(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1] ?? "";
}

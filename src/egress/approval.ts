/**
 * Per-effect approval, as far as egress is concerned: a `prompt` decision is handed to the injected
 * approver (the approvals service parks the guest and asks a human; that flow is not here) and the
 * call waits for its answer. Fail closed: no approver, an approver that throws, or an answer we do
 * not know are refusals. The wait is measured separately and never counts against the call's time
 * budget; aborting the execution ends the wait.
 */
import { EgressFailure } from "./errors.js";
import type { EgressDecision } from "./match.js";
import { raceAbort } from "./resolve.js";

export interface EgressPrompt {
  readonly decision: EgressDecision;
  readonly method: string;
  /** Display form: the query is elided. */
  readonly url: string;
  /** 0 for the request itself, n for the n-th redirect. */
  readonly hop: number;
  /** The name of the secret the matching rule would attach. */
  readonly credential?: string;
}

export type PromptAnswer = "approved" | "denied" | "expired";
export type Approver = (prompt: EgressPrompt) => Promise<PromptAnswer>;

export type ApprovalRecord = "approved" | "denied" | "expired" | "unavailable";

/** Resolves when approved; throws EgressFailure otherwise. `note` receives the outcome and the wait. */
export async function askApproval(
  approver: Approver | undefined,
  prompt: EgressPrompt,
  signal: AbortSignal | undefined,
  note: (answer: ApprovalRecord, waitedMs: number) => void,
): Promise<void> {
  if (approver === undefined) {
    note("unavailable", 0);
    throw new EgressFailure("EGRESS_APPROVAL_UNAVAILABLE", "(no approver is configured)", true);
  }
  const start = performance.now();
  let answer: unknown;
  try {
    const pending = approver(prompt);
    answer = await (signal ? raceAbort(pending, signal) : pending);
  } catch {
    note("unavailable", performance.now() - start);
    if (signal?.aborted) throw new EgressFailure("EGRESS_ABORTED");
    throw new EgressFailure("EGRESS_APPROVAL_UNAVAILABLE", "(the approver failed)", true);
  }
  const waited = performance.now() - start;
  if (answer === "approved") {
    note("approved", waited);
    return;
  }
  if (answer === "expired") {
    note("expired", waited);
    throw new EgressFailure("APPROVAL_EXPIRED", undefined, true);
  }
  if (answer === "denied") {
    note("denied", waited);
    throw new EgressFailure("APPROVAL_DENIED", undefined, true);
  }
  note("unavailable", waited);
  throw new EgressFailure("EGRESS_APPROVAL_UNAVAILABLE", "(the approver gave no known answer)", true);
}

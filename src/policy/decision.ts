/**
 * Policy decisions, in Deno's vocabulary: `allow`, `deny`, `prompt` (ask a human). Every decision
 * names the capability, the target and the reason, so a denial is explainable and auditable.
 */
export const DECISIONS = ["allow", "deny", "prompt"] as const;
export type Decision = (typeof DECISIONS)[number];

export type Capability = "policy" | "limits" | "secrets" | "approval" | "network";

export interface CapabilityDecision {
  readonly decision: Decision;
  readonly capability: Capability;
  readonly target: string;
  readonly reason: string;
}

export interface PolicyEvaluation {
  /** deny if any capability is denied, else prompt if any prompts, else allow. */
  readonly decision: Decision;
  readonly decisions: readonly CapabilityDecision[];
}

export function combine(decisions: readonly CapabilityDecision[]): PolicyEvaluation {
  const decision: Decision = decisions.some((d) => d.decision === "deny")
    ? "deny"
    : decisions.some((d) => d.decision === "prompt")
      ? "prompt"
      : "allow";
  return { decision, decisions };
}

/** The denials, as `{ path: "capability:target", message: reason }` issues for the error envelope. */
export function denialIssues(evaluation: PolicyEvaluation): Array<{ path: string; message: string }> {
  return evaluation.decisions
    .filter((d) => d.decision === "deny")
    .map((d) => ({ path: `${d.capability}:${d.target}`, message: d.reason }));
}

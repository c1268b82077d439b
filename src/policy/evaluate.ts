/**
 * Evaluates a policy for one run. Pure: the same input always gives the same decisions, which is
 * what the decision-table tests pin down. A policy that cannot be read is a denial (fail closed).
 */
import type { RequestLimits } from "../sandbox/limits.js";
import { type CapabilityDecision, combine, type PolicyEvaluation } from "./decision.js";
import { type Policy, policySchema } from "./schema.js";

export interface EvaluationInput {
  readonly policy: Policy;
  /** The tool name, or `execute` for ad-hoc runs: the target of the approval decision. */
  readonly subject: string;
  readonly dryRun: boolean;
  /** Limits the request asked for (ad-hoc runs); each must fit under the policy's ceiling. */
  readonly requestedLimits?: RequestLimits;
  /** Names of the secrets this server has values for. */
  readonly availableSecrets: ReadonlySet<string>;
}

const LIMIT_UNITS: Record<keyof RequestLimits, string> = {
  timeoutMs: "ms",
  memoryLimitBytes: "bytes",
  maxOutputBytes: "bytes",
};

export function evaluatePolicy(input: EvaluationInput): PolicyEvaluation {
  const { policy, dryRun } = input;
  const decisions: CapabilityDecision[] = [];

  for (const key of Object.keys(LIMIT_UNITS) as Array<keyof RequestLimits>) {
    const requested = input.requestedLimits?.[key];
    const ceiling = policy.limits[key];
    if (requested === undefined || ceiling === undefined) continue;
    decisions.push(
      requested > ceiling
        ? {
            decision: "deny",
            capability: "limits",
            target: key,
            reason: `requested ${requested} ${LIMIT_UNITS[key]} exceeds the policy ceiling of ${ceiling}`,
          }
        : { decision: "allow", capability: "limits", target: key, reason: `within the policy ceiling of ${ceiling}` },
    );
  }

  for (const name of policy.secrets) {
    if (!input.availableSecrets.has(name)) {
      decisions.push({
        decision: "deny",
        capability: "secrets",
        target: name,
        reason: "the policy names a secret this server has no value for",
      });
    } else if (dryRun) {
      decisions.push({
        decision: "allow",
        capability: "secrets",
        target: name,
        reason: "withheld: a dry run releases no secrets",
      });
    } else {
      decisions.push({
        decision: "allow",
        capability: "secrets",
        target: name,
        reason: "released to the guest as an environment variable",
      });
    }
  }

  // A credential the egress allowlist attaches is looked up by the host at call time and never
  // reaches the guest; a name the server has no value for is refused before anything runs.
  const credentials = new Set(policy.egress.allow.flatMap((rule) => (rule.credential ? [rule.credential.secret] : [])));
  for (const name of credentials) {
    if (!input.availableSecrets.has(name)) {
      decisions.push({
        decision: "deny",
        capability: "network",
        target: `credential ${name}`,
        reason: "an egress rule attaches a secret this server has no value for",
      });
    }
  }

  decisions.push(approvalDecision(policy, input.subject, dryRun));
  return combine(decisions);
}

function approvalDecision(policy: Policy, target: string, dryRun: boolean): CapabilityDecision {
  const base = { capability: "approval", target } as const;
  if (policy.approval === "never") return { ...base, decision: "allow", reason: "the policy never asks for approval" };
  if (dryRun) return { ...base, decision: "allow", reason: "a dry run has no effects to approve" };
  if (policy.approval === "always") {
    return { ...base, decision: "prompt", reason: "the policy asks for approval of every run" };
  }
  if (policy.sideEffect === "mutating") {
    return { ...base, decision: "prompt", reason: "the tool is mutating and the policy asks for approval on effect" };
  }
  return { ...base, decision: "allow", reason: "the tool is read-only: no effect to approve" };
}

/**
 * Reads a stored policy; a policy that no longer parses (corruption, a removed field) denies the run
 * instead of running it under guessed rules.
 */
export function readStoredPolicy(
  stored: unknown,
  target: string,
): { ok: true; policy: Policy } | { ok: false; evaluation: PolicyEvaluation } {
  const parsed = policySchema.safeParse(stored);
  if (parsed.success) return { ok: true, policy: parsed.data };
  return {
    ok: false,
    evaluation: combine([
      { decision: "deny", capability: "policy", target, reason: "the stored policy is invalid; refusing to guess" },
    ]),
  };
}

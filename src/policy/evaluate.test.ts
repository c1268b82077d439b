import { describe, expect, it } from "vitest";
import { evaluatePolicy, readStoredPolicy } from "./evaluate.js";
import { type PolicyInput, policySchema } from "./schema.js";

const policy = (input: PolicyInput) => policySchema.parse(input);
const none = new Set<string>();

describe("policy decisions: approval", () => {
  // approval x sideEffect x dryRun -> decision
  it.each([
    ["never", "mutating", false, "allow"],
    ["never", "read-only", false, "allow"],
    ["always", "read-only", false, "prompt"],
    ["always", "mutating", false, "prompt"],
    ["always", "mutating", true, "allow"],
    ["on-effect", "mutating", false, "prompt"],
    ["on-effect", "read-only", false, "allow"],
    ["on-effect", "mutating", true, "allow"],
  ] as const)("approval %s, %s, dryRun %s -> %s", (approval, sideEffect, dryRun, expected) => {
    const evaluation = evaluatePolicy({
      policy: policy({ approval, sideEffect }),
      subject: "tool-a",
      dryRun,
      availableSecrets: none,
    });
    expect(evaluation.decision).toBe(expected);
    const decision = evaluation.decisions.find((d) => d.capability === "approval");
    expect(decision).toMatchObject({ decision: expected, capability: "approval", target: "tool-a" });
    expect(decision?.reason.length).toBeGreaterThan(0);
  });

  it("defaults to mutating + on-effect: an undeclared tool waits for a human", () => {
    expect(evaluatePolicy({ policy: policy({}), subject: "t", dryRun: false, availableSecrets: none }).decision).toBe(
      "prompt",
    );
  });
});

describe("policy decisions: limits and secrets", () => {
  const base = policy({ approval: "never", limits: { timeoutMs: 1000, maxOutputBytes: 4096 }, secrets: ["API_TOKEN"] });

  it.each([
    [{ timeoutMs: 999 }, new Set(["API_TOKEN"]), "allow", []],
    [{ timeoutMs: 1000 }, new Set(["API_TOKEN"]), "allow", []],
    [{ timeoutMs: 1001 }, new Set(["API_TOKEN"]), "deny", ["limits:timeoutMs"]],
    [
      { maxOutputBytes: 5000, timeoutMs: 5000 },
      new Set(["API_TOKEN"]),
      "deny",
      ["limits:timeoutMs", "limits:maxOutputBytes"],
    ],
    [{ memoryLimitBytes: 1 << 30 }, new Set(["API_TOKEN"]), "allow", []],
    [{}, new Set<string>(), "deny", ["secrets:API_TOKEN"]],
    [{ timeoutMs: 2000 }, new Set<string>(), "deny", ["limits:timeoutMs", "secrets:API_TOKEN"]],
  ] as const)("requested %j with secrets %j -> %s %j", (requestedLimits, available, expected, denied) => {
    const evaluation = evaluatePolicy({
      policy: base,
      subject: "execute",
      dryRun: false,
      requestedLimits,
      availableSecrets: available,
    });
    expect(evaluation.decision).toBe(expected);
    const denials = evaluation.decisions.filter((d) => d.decision === "deny");
    expect(denials.map((d) => `${d.capability}:${d.target}`)).toEqual(denied);
    for (const d of denials) expect(d.reason).toMatch(/ceiling|no value/);
  });

  it("a deny wins over a prompt", () => {
    const evaluation = evaluatePolicy({
      policy: policy({ approval: "always", secrets: ["MISSING"] }),
      subject: "t",
      dryRun: false,
      availableSecrets: none,
    });
    expect(evaluation.decision).toBe("deny");
    expect(evaluation.decisions.map((d) => d.decision).sort()).toEqual(["deny", "prompt"]);
  });

  it("denies an egress credential the server has no value for, without releasing it to the guest", () => {
    const withCredential = policy({
      approval: "never",
      egress: { allow: [{ host: "api.example.com", credential: { secret: "HOOK_TOKEN", as: "bearer" } }] },
    });
    const missing = evaluatePolicy({ policy: withCredential, subject: "t", dryRun: false, availableSecrets: none });
    expect(missing.decision).toBe("deny");
    expect(missing.decisions.filter((d) => d.decision === "deny").map((d) => `${d.capability}:${d.target}`)).toEqual([
      "network:credential HOOK_TOKEN",
    ]);
    const present = evaluatePolicy({
      policy: withCredential,
      subject: "t",
      dryRun: false,
      availableSecrets: new Set(["HOOK_TOKEN"]),
    });
    expect(present.decision).toBe("allow");
    // Not a guest environment secret: no `secrets` decision releases it.
    expect(present.decisions.some((d) => d.capability === "secrets")).toBe(false);
  });

  it("withholds secrets in a dry run but still allows it", () => {
    const evaluation = evaluatePolicy({
      policy: base,
      subject: "t",
      dryRun: true,
      availableSecrets: new Set(["API_TOKEN"]),
    });
    expect(evaluation.decision).toBe("allow");
    expect(evaluation.decisions.find((d) => d.capability === "secrets")?.reason).toMatch(/withheld/);
  });

  it("denies a stored policy that no longer parses, naming capability, target and reason", () => {
    const stored = readStoredPolicy({ v: 2, sideEffect: "sometimes" }, "broken-tool");
    expect(stored.ok).toBe(false);
    if (stored.ok) return;
    expect(stored.evaluation.decision).toBe("deny");
    expect(stored.evaluation.decisions[0]).toMatchObject({ capability: "policy", target: "broken-tool" });
  });
});

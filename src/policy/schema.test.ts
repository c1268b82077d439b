import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, MAX_LIMITS } from "../sandbox/limits.js";
import { BUILTIN_DEFAULT_POLICY, canonicalPersistPath, ceilingIssues, isPersisted, policySchema } from "./schema.js";

describe("policy schema", () => {
  it("fills the safe defaults: mutating, approval on effect, no egress, no secrets, nothing persisted", () => {
    expect(policySchema.parse({})).toEqual({
      v: 1,
      sideEffect: "mutating",
      approval: "on-effect",
      limits: {},
      filesystem: { persist: [] },
      egress: { allow: [] },
      secrets: [],
    });
  });

  it("rejects unknown fields, other versions and bad values", () => {
    expect(policySchema.safeParse({ sideffect: "read-only" }).success).toBe(false);
    expect(policySchema.safeParse({ v: 2 }).success).toBe(false);
    expect(policySchema.safeParse({ approval: "sometimes" }).success).toBe(false);
    expect(policySchema.safeParse({ secrets: ["lower"] }).success).toBe(false);
    expect(policySchema.safeParse({ secrets: ["PATH"] }).success).toBe(false);
    expect(policySchema.safeParse({ secrets: ["A", "A"] }).success).toBe(false);
    expect(policySchema.safeParse({ filesystem: { persist: ["../etc"] } }).success).toBe(false);
    expect(policySchema.safeParse({ filesystem: { persist: ["/etc"] } }).success).toBe(false);
  });

  it("validates egress rules: exactly one of host and urlPrefix, http(s) only, no credentials", () => {
    const egress = (rule: unknown) => policySchema.safeParse({ egress: { allow: [rule] } }).success;
    expect(egress({ host: "api.example.com" })).toBe(true);
    expect(egress({ host: "*.example.com:8443", methods: ["GET", "POST"] })).toBe(true);
    expect(egress({ urlPrefix: "https://api.example.com/v1/" })).toBe(true);
    expect(egress({ host: "a.example.com", urlPrefix: "https://a.example.com/" })).toBe(false);
    expect(egress({ methods: ["GET"] })).toBe(false);
    expect(egress({ urlPrefix: "ftp://example.com/" })).toBe(false);
    expect(egress({ urlPrefix: "https://user:pw@example.com/" })).toBe(false);
    expect(egress({ host: "exa mple.com" })).toBe(false);
    expect(egress({ host: "api.example.com", credential: { secret: "TOKEN", as: "bearer" } })).toBe(true);
    expect(egress({ host: "api.example.com", credential: { secret: "TOKEN", as: "header" } })).toBe(false);
    expect(egress({ host: "*.example.com", allowPrivate: true })).toBe(false);
  });

  it("reads network.egress (the earlier name) as egress.allow, and refuses both at once", () => {
    const rule = { host: "api.example.com", methods: ["GET" as const] };
    const legacy = policySchema.parse({ network: { egress: [rule] } });
    expect(legacy.egress.allow).toEqual([{ ...rule, allowPrivate: false }]);
    expect("network" in legacy).toBe(false);
    expect(policySchema.parse({ egress: { allow: [rule] } })).toEqual(legacy);
    const both = policySchema.safeParse({ egress: { allow: [rule] }, network: { egress: [rule] } });
    expect(both.success).toBe(false);
    expect(both.error?.issues[0]?.path).toEqual(["network"]);
  });

  it("keeps read-only policies to safe egress methods", () => {
    const result = policySchema.safeParse({
      sideEffect: "read-only",
      network: { egress: [{ host: "a.b", methods: ["POST"] }] },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["network", "egress", 0, "methods"]);
    const current = policySchema.safeParse({
      sideEffect: "read-only",
      egress: { allow: [{ host: "a.b", methods: ["PUT"] }] },
    });
    expect(current.error?.issues[0]?.path).toEqual(["egress", "allow", 0, "methods"]);
  });

  it("checks ceilings against the server maxima", () => {
    const within = policySchema.parse({ limits: { timeoutMs: MAX_LIMITS.timeoutMs } });
    expect(ceilingIssues(within, MAX_LIMITS)).toEqual([]);
    const above = policySchema.parse({
      limits: { timeoutMs: MAX_LIMITS.timeoutMs + 1 },
      filesystem: { quotaBytes: 1e12 },
    });
    expect(ceilingIssues(above, MAX_LIMITS).map((i) => i.path)).toEqual([
      "policy.limits.timeoutMs",
      "policy.filesystem.quotaBytes",
    ]);
    expect(ceilingIssues(policySchema.parse({}), DEFAULT_LIMITS)).toEqual([]);
  });

  it("canonicalises persisted paths and matches files under them", () => {
    expect(canonicalPersistPath(".")).toBe("/workspace");
    expect(canonicalPersistPath("/workspace/out/")).toBe("/workspace/out");
    expect(canonicalPersistPath("out//x")).toBe("/workspace/out/x");
    expect(canonicalPersistPath("../x")).toBeNull();
    const p = policySchema.parse({ filesystem: { persist: ["out"] } });
    expect(isPersisted(p, "out/a.txt")).toBe(true);
    expect(isPersisted(p, "out")).toBe(true);
    expect(isPersisted(p, "outside.txt")).toBe(false);
    expect(isPersisted(policySchema.parse(BUILTIN_DEFAULT_POLICY), "any/where.txt")).toBe(true);
  });
});

/**
 * The policy a tool (or, for ad-hoc executions, the server's default policy) runs under: one zod
 * schema, versioned (`v: 1`). The field names are the contract:
 *
 * - `sideEffect`: `read-only` | `mutating` (default `mutating`: an undeclared tool is assumed to act).
 * - `approval`: `never` | `always` | `on-effect` (default `on-effect`: mutating runs wait for a human).
 * - `limits`: ceilings for `timeoutMs`, `memoryLimitBytes`, `maxOutputBytes` (never above the server's maxima).
 * - `filesystem`: `persist` (workspace paths whose output files are kept and returned; default none)
 *   and `quotaBytes` (ceiling on bytes the guest may write).
 * - `egress.allow`: allowlist of `{ host | urlPrefix, methods, credential?, allowPrivate? }`; default
 *   none (no network). Enforced by the host on every guest HTTP call (src/egress). `network.egress`,
 *   the name of the same list before egress existed, is still accepted and read as `egress.allow`.
 * - `secrets`: names of configured secrets the tool may use; values never appear in code, responses or logs.
 */
import { z } from "zod";
import { egressRuleSchema } from "../egress/policy.js";
import type { Limits } from "../sandbox/limits.js";
import { normaliseWorkspacePath } from "../sandbox/workspace.js";

export const POLICY_VERSION = 1;

export const HTTP_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"] as const;
export const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);
export const MAX_SECRETS = 32;
export const MAX_EGRESS_RULES = 64;
export const MAX_PERSIST_PATHS = 64;

/** Environment variable names the sandbox sets itself; a secret may not take them. */
const RESERVED_ENV = new Set(["PATH", "HOME", "LANG", "PWD", "SANDBOX_REQUEST_ID", "TRACEPARENT"]);
export const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;

/** `/workspace`, `.` -> `/workspace`; `out`, `/workspace/out/` -> `/workspace/out`; escapes -> null. */
export function canonicalPersistPath(input: string): string | null {
  const trimmed = input.replace(/\/+$/, "");
  if (trimmed === "" || trimmed === "/workspace" || trimmed === ".") return "/workspace";
  const relative = normaliseWorkspacePath(trimmed);
  return relative === null ? null : `/workspace/${relative}`;
}

/** One egress allowlist entry: the contract of issue 8 (src/egress/policy.ts, docs/egress.md). */
export type EgressRule = z.infer<typeof egressRuleSchema>;

const egressRules = z.array(egressRuleSchema).max(MAX_EGRESS_RULES);

const ceiling = z.number().int().positive();

export const policySchema = z
  .object({
    v: z.literal(POLICY_VERSION).default(POLICY_VERSION),
    sideEffect: z.enum(["read-only", "mutating"]).default("mutating"),
    approval: z.enum(["never", "always", "on-effect"]).default("on-effect"),
    limits: z
      .object({
        timeoutMs: ceiling.optional(),
        memoryLimitBytes: ceiling.min(16 * 1024 * 1024, { message: "must be at least 16777216 bytes" }).optional(),
        maxOutputBytes: ceiling.optional(),
      })
      .strict()
      .default({}),
    filesystem: z
      .object({
        persist: z
          .array(
            z
              .string()
              .min(1)
              .max(1024)
              .transform((path, ctx) => {
                const canonical = canonicalPersistPath(path);
                if (canonical === null) {
                  ctx.addIssue({ code: "custom", message: "must be a path inside /workspace" });
                  return z.NEVER;
                }
                return canonical;
              }),
          )
          .max(MAX_PERSIST_PATHS)
          .default([]),
        quotaBytes: z.number().int().nonnegative().optional(),
      })
      .strict()
      .default({ persist: [] }),
    egress: z
      .object({ allow: egressRules.default([]) })
      .strict()
      .optional(),
    /** The earlier name of `egress.allow`; read as it, never both. */
    network: z
      .object({ egress: egressRules.default([]) })
      .strict()
      .optional(),
    secrets: z
      .array(
        z
          .string()
          .regex(SECRET_NAME, { message: "secret names are A-Z, 0-9 and _, starting with a letter or _" })
          .refine((name) => !RESERVED_ENV.has(name) && !/^(LD_|DYLD_)/.test(name), {
            message: "this name is reserved for the sandbox",
          }),
      )
      .max(MAX_SECRETS)
      .refine((names) => new Set(names).size === names.length, { message: "secret names must be unique" })
      .default([]),
  })
  .strict()
  .superRefine((policy, ctx) => {
    if (policy.egress !== undefined && policy.network !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["network"],
        message: "give egress.allow (network.egress is its old name), not both",
      });
      return;
    }
    if (policy.sideEffect !== "read-only") return;
    const [path, rules] =
      policy.network !== undefined
        ? [["network", "egress"], policy.network.egress]
        : [["egress", "allow"], policy.egress?.allow ?? []];
    rules.forEach((rule, i) => {
      if (rule.methods.some((m) => !SAFE_METHODS.has(m))) {
        ctx.addIssue({
          code: "custom",
          path: [...path, i, "methods"],
          message: "a read-only policy may only allow GET, HEAD and OPTIONS",
        });
      }
    });
  })
  .transform(({ network, egress, ...rest }) => ({
    ...rest,
    egress: { allow: egress?.allow ?? network?.egress ?? [] },
  }));

export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** The ceiling issues of a policy against the server's maxima (empty when it fits). */
export function ceilingIssues(policy: Policy, maxima: Limits): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const check = (path: string, value: number | undefined, max: number, unit: string) => {
    if (value !== undefined && value > max) {
      issues.push({ path, message: `must not exceed the server maximum of ${max} ${unit}` });
    }
  };
  check("policy.limits.timeoutMs", policy.limits.timeoutMs, maxima.timeoutMs, "ms");
  check("policy.limits.memoryLimitBytes", policy.limits.memoryLimitBytes, maxima.memoryLimitBytes, "bytes");
  check("policy.limits.maxOutputBytes", policy.limits.maxOutputBytes, maxima.maxOutputBytes, "bytes");
  check("policy.filesystem.quotaBytes", policy.filesystem.quotaBytes, maxima.maxFilesystemBytes, "bytes");
  return issues;
}

/** Whether a workspace file (relative path) falls under one of the persisted paths. */
export function isPersisted(policy: Policy, relativePath: string): boolean {
  const full = `/workspace/${relativePath}`;
  return policy.filesystem.persist.some((p) => p === "/workspace" || full === p || full.startsWith(`${p}/`));
}

/** The server's default policy for ad-hoc POST /v1/execute when none is configured. */
export const BUILTIN_DEFAULT_POLICY: PolicyInput = {
  v: 1,
  sideEffect: "read-only",
  approval: "never",
  filesystem: { persist: ["/workspace"] },
};

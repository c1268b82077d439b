/**
 * zod schemas for every HTTP body, the single source for validation and for /openapi.json.
 * Limit maxima come from the server configuration, so the request schema is built per server.
 */
import { z } from "zod";
import { AUDIT_EVENT_TYPES } from "../audit/event.js";
import type { LimitPolicy } from "../config.js";
import { ERRORS } from "../errors.js";
import { LANGUAGES, SANDBOX_KINDS } from "../sandbox/types.js";
import { APPROVAL_KINDS, APPROVAL_STATUSES, EXECUTION_STATUSES } from "../store/store.js";

export const MAX_FILES = 1000;
export const MAX_ARGS = 1024;
export const MAX_ENV_VARS = 256;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Loader and linker variables never reach a guest, whatever the sandbox. */
const FORBIDDEN_ENV = /^(LD_|DYLD_)/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const atMost = (max: number, unit: string) =>
  z
    .number()
    .int()
    .positive()
    .max(max, { message: `must not exceed the server maximum of ${max} ${unit}` });

export function executeRequestSchema(policy: LimitPolicy) {
  const { maxima } = policy;
  return z
    .object({
      language: z.enum(LANGUAGES).describe("Language of `code`."),
      code: z.string().describe("Source code, run as a script file in /workspace."),
      stdin: z.string().default("").describe("Text on the guest's standard input."),
      args: z.array(z.string()).max(MAX_ARGS).default([]).describe("Script arguments."),
      env: z
        .record(
          z
            .string()
            .regex(ENV_NAME, { message: "environment variable names are letters, digits and _" })
            .refine((name) => !FORBIDDEN_ENV.test(name), { message: "LD_* and DYLD_* variables are not allowed" }),
          z.string().refine((v) => !v.includes("\0"), { message: "must not contain NUL" }),
        )
        .refine((env) => Object.keys(env).length <= MAX_ENV_VARS, { message: `at most ${MAX_ENV_VARS} variables` })
        .default({})
        .describe("The guest's entire environment: nothing of the host's is added."),
      files: z
        .array(
          z
            .object({
              path: z.string().min(1).describe("Relative to /workspace, or absolute under /workspace."),
              content: z.string(),
              encoding: z.enum(["utf8", "base64"]).default("utf8"),
            })
            .strict()
            .refine((f) => f.encoding !== "base64" || BASE64.test(f.content), {
              message: "content is not valid base64",
              path: ["content"],
            }),
        )
        .max(MAX_FILES)
        .default([])
        .describe("Files placed in /workspace before the code runs."),
      limits: z
        .object({
          timeoutMs: atMost(maxima.timeoutMs, "ms").optional(),
          memoryLimitBytes: atMost(maxima.memoryLimitBytes, "bytes")
            .min(16 * 1024 * 1024, { message: "must be at least 16777216 bytes" })
            .optional(),
          maxOutputBytes: atMost(maxima.maxOutputBytes, "bytes").optional(),
        })
        .strict()
        .optional(),
      sandbox: z.enum(SANDBOX_KINDS).optional().describe("Which sandbox runs the code; default set by the server."),
      exposeRequestId: z
        .boolean()
        .optional()
        .describe(
          "When true, the guest's environment also gets SANDBOX_REQUEST_ID (this request's X-Request-Id) and TRACEPARENT (W3C traceparent of this server's span), overriding `env` entries of those names.",
        ),
    })
    .strict();
}

export type ExecuteRequestBody = z.infer<ReturnType<typeof executeRequestSchema>>;

const outcomeCodes = Object.values(ERRORS)
  .filter((e) => e.outcome)
  .map((e) => e.code) as [string, ...string[]];

export const fileOutSchema = z.object({
  path: z.string(),
  content: z.string(),
  encoding: z.enum(["utf8", "base64"]),
  size: z.number().int(),
});

export const executeResponseSchema = z.object({
  id: z.string().describe("exec_<128-bit random, base64url>"),
  language: z.enum(LANGUAGES),
  sandbox: z.enum(SANDBOX_KINDS).describe("The sandbox that actually ran the code."),
  runtime: z.object({ name: z.string(), version: z.string() }),
  exitCode: z.number().int().nullable().describe("null when the guest was stopped before it exited."),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.object({ stdout: z.boolean(), stderr: z.boolean() }),
  files: z.array(fileOutSchema).describe("Files created or changed under /workspace."),
  durationMs: z.number(),
  error: z.object({ code: z.enum(outcomeCodes), message: z.string() }).optional(),
});

export type ExecuteResponse = z.infer<typeof executeResponseSchema>;

export const errorResponseSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERRORS) as [string, ...string[]]),
    message: z.string(),
    requestId: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

export const runtimesResponseSchema = z.object({
  defaultSandbox: z.enum(SANDBOX_KINDS),
  sandboxes: z.array(
    z.object({
      kind: z.enum(SANDBOX_KINDS),
      available: z.boolean(),
      reason: z.string().optional(),
      languages: z.array(
        z.object({ language: z.enum(LANGUAGES), runtime: z.object({ name: z.string(), version: z.string() }) }),
      ),
      unavailableLanguages: z.array(z.object({ language: z.enum(LANGUAGES), reason: z.string() })).optional(),
    }),
  ),
  languages: z.array(z.enum(LANGUAGES)),
  limits: z.object({
    defaults: z.record(z.string(), z.number()),
    maxima: z.record(z.string(), z.number()),
  }),
});

export const healthResponseSchema = z.object({
  status: z.enum(["ok", "loading"]),
  sandboxes: z
    .record(z.string(), z.record(z.string(), z.enum(["available", "loading", "unavailable"])))
    .optional()
    .describe(
      "/readyz only: each sandbox's languages and their state (reasons are in the authenticated GET /v1/runtimes).",
    ),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;

// Control plane: tools, approvals, execution records (docs/tools-and-approvals.md)

export const approvalDecisionSchema = z
  .object({ reason: z.string().trim().min(1).max(2000).describe("Why; recorded in the timeline.") })
  .strict();

export const pendingApprovalResponseSchema = z.object({
  id: z.string().describe("The execution id; poll GET /v1/executions/{id}."),
  status: z.literal("pending_approval"),
  approval: z.object({ id: z.string(), expiresAt: z.string().describe("ISO 8601") }),
});

export const auditEventSchema = z
  .object({
    v: z.literal(1),
    id: z.string(),
    seq: z.number().int().describe("1, 2, 3... within the execution"),
    time: z.string(),
    requestId: z.string().describe("The request that caused this step"),
    executionId: z.string(),
    type: z.enum(AUDIT_EVENT_TYPES),
  })
  .loose();

const manifestSchema = z.object({
  files: z.array(z.object({ path: z.string(), size: z.number().int(), sha256: z.string() })),
  secrets: z.array(z.object({ name: z.string() })),
  egress: z.array(
    z.object({ target: z.string(), methods: z.array(z.string()), answeredBy: z.enum(["mock", "DRY_RUN"]) }),
  ),
});

export const runResponseSchema = executeResponseSchema.extend({
  tool: z.object({ name: z.string(), version: z.number().int() }).optional(),
  dryRun: z.boolean().optional(),
  manifest: manifestSchema.optional().describe("Dry runs: the effects that would have happened."),
});

export const executionRecordSchema = z.object({
  id: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  kind: z.enum(["adhoc", "tool"]),
  tool: z.object({ name: z.string(), version: z.number().int() }).optional(),
  dryRun: z.boolean(),
  owner: z.string(),
  requestId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  approval: z
    .object({
      id: z.string(),
      status: z.enum(APPROVAL_STATUSES),
      expiresAt: z.string(),
      decidedBy: z.string().optional(),
      decisionReason: z.string().optional(),
    })
    .optional(),
  result: runResponseSchema.optional().describe("The execution response, once finished."),
  error: z.object({ code: z.string(), message: z.string() }).optional().describe("Why it ended without a result."),
  events: z.array(auditEventSchema),
});

export const effectDetailSchema = z.object({
  kind: z.literal("egress"),
  method: z.string(),
  url: z.string().describe("Display form: the query is elided."),
  hop: z.number().int().describe("0 for the request itself, n for the n-th redirect."),
  credential: z.string().optional().describe("The name of the secret the request would carry (never its value)."),
});

export const approvalViewSchema = z.object({
  id: z.string(),
  kind: z
    .enum(APPROVAL_KINDS)
    .describe(
      "`run`: the execution waits to start; approving launches it. `effect`: one effect of a running execution waits; deciding never moves the execution.",
    ),
  status: z.enum(APPROVAL_STATUSES),
  executionId: z.string(),
  requestedBy: z.string(),
  reason: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  tool: z.object({ name: z.string(), version: z.number().int() }).optional(),
  codeHash: z.string().optional().describe("Run approvals: the code the approval is bound to."),
  inputHash: z.string().optional().describe("Run approvals: the input the approval is bound to."),
  effect: effectDetailSchema.optional().describe("Effect approvals: the effect waiting for a decision."),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  decisionReason: z.string().optional(),
  subject: z.record(z.string(), z.unknown()).optional().describe("Pending run approvals: exactly what would run."),
});

export const toolViewSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  language: z.enum(LANGUAGES),
  description: z.string(),
  code: z.string(),
  codeHash: z.string(),
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  policy: z.record(z.string(), z.unknown()),
  mocks: z.array(z.record(z.string(), z.unknown())).optional(),
  createdAt: z.string(),
  createdBy: z.string(),
});

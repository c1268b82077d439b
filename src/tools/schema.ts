/**
 * Tool definitions: `PUT /v1/tools/{name}` takes `{ language, code, description, inputSchema?, policy,
 * mocks? }`; `POST /v1/tools/{name}/invoke` takes `{ input, dryRun? }`. Mocks answer the tool's
 * egress in a dry run; each must target something the policy's egress allowlist allows.
 */
import { z } from "zod";
import { compileRule, ruleMatches } from "../egress/match.js";
import type { EgressRuleInput } from "../egress/policy.js";
import { parseEgressUrl } from "../egress/url.js";
import { HTTP_METHODS, policySchema } from "../policy/schema.js";
import { LANGUAGES } from "../sandbox/types.js";

export const TOOL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MAX_TOOL_CODE_BYTES = 1024 * 1024;
export const MAX_MOCKS = 100;

const httpUrl = z
  .string()
  .max(2048)
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.protocol === "https:" || url.protocol === "http:";
      } catch {
        return false;
      }
    },
    { message: "must be an http(s) URL" },
  );

export const mockSchema = z
  .object({
    method: z.enum(HTTP_METHODS).default("GET"),
    url: httpUrl,
    response: z
      .object({
        status: z.number().int().min(100).max(599).default(200),
        headers: z.record(z.string(), z.string()).default({}),
        body: z
          .string()
          .max(1024 * 1024)
          .default(""),
      })
      .strict()
      .default({ status: 200, headers: {}, body: "" }),
  })
  .strict();

export type ToolMock = z.infer<typeof mockSchema>;

export const toolDefinitionSchema = z
  .object({
    language: z.enum(LANGUAGES),
    code: z
      .string()
      .min(1)
      .refine((code) => Buffer.byteLength(code) <= MAX_TOOL_CODE_BYTES, { message: "at most 1 MiB of code" }),
    description: z.string().max(4096).default(""),
    inputSchema: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("JSON Schema the input must satisfy; checked before anything runs."),
    policy: policySchema,
    mocks: z.array(mockSchema).max(MAX_MOCKS).optional(),
  })
  .strict()
  .superRefine((tool, ctx) => {
    tool.mocks?.forEach((mock, i) => {
      if (!tool.policy.egress.allow.some((rule) => egressAllows(rule, mock.method, mock.url))) {
        ctx.addIssue({
          code: "custom",
          path: ["mocks", i, "url"],
          message: "the policy's egress allowlist does not allow this method and URL",
        });
      }
    });
  });

export type ToolDefinition = z.infer<typeof toolDefinitionSchema>;

export const invokeRequestSchema = z
  .object({
    input: z
      .unknown()
      .optional()
      .describe("Any JSON value; the guest reads it on stdin and from /workspace/input.json."),
    dryRun: z.boolean().default(false).describe("Run with zero side effects and return the manifest of effects."),
  })
  .strict();

export type InvokeRequest = z.infer<typeof invokeRequestSchema>;

/**
 * Whether an egress rule allows `method` on `url`, by the same matcher egress enforcement uses:
 * parsed URLs, prefixes on a path-segment boundary (`https://api.example.com` never matches
 * `https://api.example.com.evil.net/`), IP literals compared as addresses.
 */
export function egressAllows(rule: EgressRuleInput, method: string, url: string): boolean {
  const compiled = compileRule(rule, 0);
  const parsed = parseEgressUrl(url);
  return compiled.ok && parsed.ok && ruleMatches(compiled.rule, parsed.target, method);
}

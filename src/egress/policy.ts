/**
 * The egress policy: one zod schema, the contract of issue 8.
 *
 * ```json
 * { "allow": [
 *   { "host": "api.example.com", "methods": ["GET"] },
 *   { "urlPrefix": "https://hooks.example.com/v1/", "methods": ["POST"],
 *     "credential": { "secret": "HOOK_TOKEN", "as": "bearer" } },
 *   { "host": "metrics.internal:9090", "allowPrivate": true }
 * ] }
 * ```
 *
 * - `host`: a host name (IDNA is applied, so `bücher.example` works), `*.example.com` (subdomains,
 *   not the apex), or an IP literal, optionally with `:port` (without one, every port).
 * - `urlPrefix`: an http(s) URL without userinfo, query or fragment; matches that scheme, host and
 *   port, and paths under it on a segment boundary (`/v1` matches `/v1` and `/v1/x`, not `/v10`).
 * - `methods`: default `["GET"]`.
 * - `credential`: a configured secret attached to requests this rule matches, as a bearer token, as
 *   basic auth (the secret holds `user:password`), or as the value of `header`. A `host` rule with a
 *   credential matches https only; a `urlPrefix` rule names its scheme itself.
 * - `allowPrivate`: this rule's host may resolve to (or be) a private, loopback, link-local, CGNAT,
 *   unique-local, metadata or documentation address. Only for a rule naming one exact host.
 */
import { z } from "zod";
import { compileRule } from "./match.js";

export const EGRESS_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"] as const;
export type EgressMethod = (typeof EGRESS_METHODS)[number];

export const MAX_EGRESS_ALLOW = 64;
export const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;
/** RFC 9110 field-name token. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers a credential may not be injected as: the transport and correlation own them. */
const CREDENTIAL_HEADER_FORBIDDEN = new Set([
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "traceparent",
  "tracestate",
  "x-request-id",
]);

export const credentialSchema = z
  .object({
    secret: z.string().regex(SECRET_NAME, { message: "secret names are A-Z, 0-9 and _, starting with a letter or _" }),
    as: z.enum(["bearer", "basic", "header"]),
    header: z.string().max(128).regex(HEADER_NAME, { message: "must be an HTTP header name" }).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.as === "header" && c.header === undefined) {
      ctx.addIssue({ code: "custom", path: ["header"], message: 'required when as is "header"' });
    }
    if (c.as !== "header" && c.header !== undefined) {
      ctx.addIssue({ code: "custom", path: ["header"], message: 'only with as "header"' });
    }
    const name = c.header?.toLowerCase();
    if (name !== undefined && (CREDENTIAL_HEADER_FORBIDDEN.has(name) || name.startsWith("proxy-"))) {
      ctx.addIssue({ code: "custom", path: ["header"], message: "this header is owned by the transport" });
    }
  });

export type EgressCredential = z.infer<typeof credentialSchema>;

export const egressRuleSchema = z
  .object({
    host: z.string().min(1).max(260).optional(),
    urlPrefix: z.string().min(1).max(2048).optional(),
    methods: z.array(z.enum(EGRESS_METHODS)).min(1).max(EGRESS_METHODS.length).default(["GET"]),
    credential: credentialSchema.optional(),
    allowPrivate: z.boolean().default(false),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if ((rule.host === undefined) === (rule.urlPrefix === undefined)) {
      ctx.addIssue({ code: "custom", message: "give exactly one of host and urlPrefix" });
      return;
    }
    const compiled = compileRule(rule, 0);
    if (!compiled.ok) {
      ctx.addIssue({
        code: "custom",
        path: [rule.host !== undefined ? "host" : "urlPrefix"],
        message: compiled.reason,
      });
    }
  });

export type EgressRule = z.infer<typeof egressRuleSchema>;
export type EgressRuleInput = z.input<typeof egressRuleSchema>;

export const egressPolicySchema = z
  .object({ allow: z.array(egressRuleSchema).max(MAX_EGRESS_ALLOW).default([]) })
  .strict();

export type EgressPolicy = z.infer<typeof egressPolicySchema>;
export type EgressPolicyInput = z.input<typeof egressPolicySchema>;

/** Per-effect approval, as the tool policy's `approval` field: `on-effect` makes every call a prompt. */
export type EgressApproval = "never" | "always" | "on-effect";

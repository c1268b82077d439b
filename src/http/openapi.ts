/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
import { z } from "zod";
import type { LimitPolicy } from "../config.js";
import {
  errorResponseSchema,
  executeRequestSchema,
  executeResponseSchema,
  healthResponseSchema,
  runtimesResponseSchema,
} from "./schemas.js";

const VERSION = "0.1.0";

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string, description: string) => ({
  description,
  content: { "application/json": { schema: ref(name) } },
});
const error = (description: string) => json("Error", description);
const RATE_HEADERS = {
  "RateLimit-Limit": {
    description: "Requests per window for this key (draft-ietf-httpapi-ratelimit-headers-06).",
    schema: { type: "integer" },
  },
  "RateLimit-Remaining": { description: "Requests left now.", schema: { type: "integer" } },
  "RateLimit-Reset": { description: "Seconds until the quota is full again.", schema: { type: "integer" } },
  "RateLimit-Policy": { description: "`<limit>;w=<window seconds>`", schema: { type: "string" } },
};
const withRateHeaders = <T extends object>(response: T) => ({ ...response, headers: RATE_HEADERS });
/** Responses every authenticated route can give. */
const authResponses = {
  "401": error("UNAUTHORIZED: missing or invalid API key (same body in every case)"),
  "403": error("FORBIDDEN (key lacks the scope) or ORIGIN_NOT_ALLOWED"),
  "429": error("AUTH_LOCKED_OUT, RATE_LIMITED or TOO_MANY_CONCURRENT; see Retry-After"),
};

export function openApiDocument(limits: LimitPolicy) {
  return {
    openapi: "3.1.0",
    info: {
      title: "inline-sandbox",
      version: VERSION,
      description:
        "Runs untrusted inline code (JavaScript, Ruby, Python, Bash) in fresh WebAssembly interpreter instances, or under bubblewrap.",
    },
    paths: {
      "/v1/execute": {
        post: {
          operationId: "execute",
          summary: "Run code once in a fresh sandboxed interpreter",
          description: "Needs an API key with the `execute` scope.",
          security: [{ apiKey: ["execute"] }],
          requestBody: { required: true, content: { "application/json": { schema: ref("ExecuteRequest") } } },
          responses: {
            "200": withRateHeaders(
              json("ExecuteResponse", "The code ran; guest failures and limit hits are in `error`."),
            ),
            ...authResponses,
            "400": error("VALIDATION_FAILED or MALFORMED_JSON"),
            "413": error("PAYLOAD_TOO_LARGE"),
            "415": error("UNSUPPORTED_MEDIA_TYPE"),
            "422": error("RUNTIME_UNAVAILABLE"),
            "503": error("SANDBOX_UNAVAILABLE, NOT_READY or OVERLOADED"),
          },
        },
      },
      "/v1/runtimes": {
        get: {
          operationId: "runtimes",
          summary: "Languages, interpreter versions, sandboxes and limits on this host",
          description: "Needs any valid API key.",
          security: [{ apiKey: [] }],
          responses: {
            "200": withRateHeaders(json("Runtimes", "What this host can run")),
            ...authResponses,
            "503": error("NOT_READY"),
          },
        },
      },
      "/healthz": {
        get: { operationId: "health", security: [], responses: { "200": json("Health", "The process serves") } },
      },
      "/readyz": {
        get: {
          operationId: "ready",
          security: [],
          responses: { "200": json("Health", "Runtimes are loaded"), "503": json("Health", "Still loading") },
        },
      },
      "/openapi.json": {
        get: { operationId: "openapi", security: [], responses: { "200": { description: "This document" } } },
      },
    },
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "Authorization: Bearer <API key>. Scopes: execute, approve, admin.",
        },
      },
      schemas: {
        ExecuteRequest: jsonSchema(executeRequestSchema(limits), "input"),
        ExecuteResponse: jsonSchema(executeResponseSchema, "output"),
        Error: jsonSchema(errorResponseSchema, "output"),
        Runtimes: jsonSchema(runtimesResponseSchema, "output"),
        Health: jsonSchema(healthResponseSchema, "output"),
      },
    },
  };
}

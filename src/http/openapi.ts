/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
import { z } from "zod";
import type { LimitPolicy } from "../config.js";
import { invokeRequestSchema, toolDefinitionSchema } from "../tools/schema.js";
import {
  approvalDecisionSchema,
  approvalViewSchema,
  auditEventSchema,
  errorResponseSchema,
  executeRequestSchema,
  executeResponseSchema,
  executionRecordSchema,
  healthResponseSchema,
  pendingApprovalResponseSchema,
  runResponseSchema,
  runtimesResponseSchema,
  toolViewSchema,
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
            "202": json("PendingApproval", "The default policy asks for a human: poll GET /v1/executions/{id}"),
            ...authResponses,
            "400": error("VALIDATION_FAILED or MALFORMED_JSON"),
            "403": error("FORBIDDEN, ORIGIN_NOT_ALLOWED or POLICY_DENIED (X-Execution-Id names the record)"),
            "413": error("PAYLOAD_TOO_LARGE"),
            "415": error("UNSUPPORTED_MEDIA_TYPE"),
            "422": error("RUNTIME_UNAVAILABLE or SECRET_DETECTED"),
            "503": error("SANDBOX_UNAVAILABLE, NOT_READY, OVERLOADED or STORE_UNAVAILABLE"),
          },
        },
      },
      ...controlPlanePaths(),
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
        ToolDefinition: jsonSchema(toolDefinitionSchema, "input"),
        Tool: jsonSchema(toolViewSchema, "output"),
        InvokeRequest: jsonSchema(invokeRequestSchema, "input"),
        RunResponse: jsonSchema(runResponseSchema, "output"),
        PendingApproval: jsonSchema(pendingApprovalResponseSchema, "output"),
        ApprovalDecision: jsonSchema(approvalDecisionSchema, "input"),
        Approval: jsonSchema(approvalViewSchema, "output"),
        ExecutionRecord: jsonSchema(executionRecordSchema, "output"),
        AuditEvent: jsonSchema(auditEventSchema, "output"),
      },
    },
  };
}

const body = (name: string) => ({ required: true, content: { "application/json": { schema: ref(name) } } });
const nameParam = {
  name: "name",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]{0,63}$" },
};
const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };

/** Tools, approvals and execution records (docs/tools-and-approvals.md). */
function controlPlanePaths() {
  return {
    "/v1/tools": {
      get: {
        operationId: "listTools",
        summary: "Current versions of the registered tools (without code)",
        security: [{ apiKey: [] }],
        responses: {
          "200": { description: "`{ tools: [...] }`" },
          ...authResponses,
          "503": error("STORE_UNAVAILABLE"),
        },
      },
    },
    "/v1/tools/{name}": {
      parameters: [nameParam],
      put: {
        operationId: "putTool",
        summary: "Register a tool, or a new version of it",
        description:
          "Needs `admin`. A changed definition creates a new version; an identical one changes nothing (200).",
        security: [{ apiKey: ["admin"] }],
        requestBody: body("ToolDefinition"),
        responses: {
          "201": json("Tool", "A new version was created"),
          "200": json("Tool", "Identical to the current version; nothing changed"),
          ...authResponses,
          "400": error(
            "VALIDATION_FAILED (schema, ceilings above the server maxima, mocks outside the egress allowlist)",
          ),
          "422": error("SECRET_DETECTED in the code"),
          "503": error("STORE_UNAVAILABLE"),
        },
      },
      get: {
        operationId: "getTool",
        summary: "The current version, or `?version=N`",
        security: [{ apiKey: [] }],
        parameters: [{ name: "version", in: "query", required: false, schema: { type: "integer", minimum: 1 } }],
        responses: { "200": json("Tool", "The tool"), ...authResponses, "404": error("NOT_FOUND") },
      },
      delete: {
        operationId: "deleteTool",
        summary: "Delete a tool (its versions stay readable with ?version=N)",
        security: [{ apiKey: ["admin"] }],
        responses: { "204": { description: "Deleted" }, ...authResponses, "404": error("NOT_FOUND") },
      },
    },
    "/v1/tools/{name}/invoke": {
      parameters: [nameParam],
      post: {
        operationId: "invokeTool",
        summary: "Run the current version of a tool under its policy",
        description:
          "Needs `execute`. The input reaches the guest as JSON on stdin and in /workspace/input.json. `dryRun: true` runs with no side effects and returns the manifest of effects.",
        security: [{ apiKey: ["execute"] }],
        requestBody: body("InvokeRequest"),
        responses: {
          "200": json("RunResponse", "The tool ran"),
          "202": json("PendingApproval", "The policy asks for a human"),
          ...authResponses,
          "400": error("VALIDATION_FAILED (including the tool's input schema)"),
          "403": error("FORBIDDEN or POLICY_DENIED"),
          "404": error("NOT_FOUND"),
          "422": error("SECRET_DETECTED or RUNTIME_UNAVAILABLE"),
          "503": error("STORE_UNAVAILABLE, SANDBOX_UNAVAILABLE, NOT_READY or OVERLOADED"),
        },
      },
    },
    "/v1/approvals": {
      get: {
        operationId: "listApprovals",
        summary: "Approvals of runs and of single effects, newest first",
        description:
          "Pending `run` approvals include exactly what would run (`subject`); `effect` approvals show the effect a running execution waits on (`effect`).",
        security: [{ apiKey: ["approve"] }, { apiKey: ["admin"] }],
        parameters: [
          {
            name: "status",
            in: "query",
            required: false,
            schema: { enum: ["pending", "approved", "denied", "expired"] },
          },
          { name: "kind", in: "query", required: false, schema: { enum: ["run", "effect"] } },
          { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 500 } },
        ],
        responses: { "200": { description: "`{ approvals: Approval[] }`" }, ...authResponses },
      },
    },
    "/v1/approvals/{id}": {
      parameters: [idParam],
      get: {
        operationId: "getApproval",
        security: [{ apiKey: ["approve"] }, { apiKey: ["admin"] }],
        responses: { "200": json("Approval", "The approval"), ...authResponses, "404": error("NOT_FOUND") },
      },
    },
    ...Object.fromEntries(
      (["approve", "deny"] as const).map((action) => [
        `/v1/approvals/{id}/${action}`,
        {
          parameters: [idParam],
          post: {
            operationId: `${action}Approval`,
            summary:
              action === "approve"
                ? "Approve: the execution runs (once), or the waiting effect proceeds"
                : "Deny: the execution never runs, or the waiting effect fails",
            description:
              "Needs `approve`. The key that requested the execution can never decide it. Deciding an `effect` approval never moves the execution (it stays `running`); it is refused with APPROVAL_NOT_PENDING once the execution stopped running.",
            security: [{ apiKey: ["approve"] }],
            requestBody: body("ApprovalDecision"),
            responses: {
              "200": { description: "`{ approval, execution: { id, status } }`" },
              ...authResponses,
              "403": error("FORBIDDEN or SELF_APPROVAL_FORBIDDEN"),
              "404": error("NOT_FOUND"),
              "409": error("APPROVAL_NOT_PENDING or APPROVAL_MISMATCH"),
              "410": error("APPROVAL_EXPIRED"),
            },
          },
        },
      ]),
    ),
    "/v1/executions/{id}": {
      parameters: [idParam],
      get: {
        operationId: "getExecution",
        summary: "The execution record with its events; `?wait=30s` answers once it is finished",
        description: "A key sees only its own executions (404 otherwise) unless it has `admin`.",
        security: [{ apiKey: [] }],
        parameters: [
          { name: "wait", in: "query", required: false, schema: { type: "string", pattern: "^\\d+(ms|s)?$" } },
        ],
        responses: { "200": json("ExecutionRecord", "The record"), ...authResponses, "404": error("NOT_FOUND") },
      },
    },
    "/v1/executions/{id}/events": {
      parameters: [idParam],
      get: {
        operationId: "streamExecutionEvents",
        summary: "The timeline as Server-Sent Events (`event: <type>`, `id: <seq>`, `data: AuditEvent`)",
        description: "Stored events first, then live ones; closes after `completed`. Resume with Last-Event-ID.",
        security: [{ apiKey: [] }],
        responses: {
          "200": { description: "text/event-stream", content: { "text/event-stream": { schema: ref("AuditEvent") } } },
          ...authResponses,
          "404": error("NOT_FOUND"),
        },
      },
    },
  };
}

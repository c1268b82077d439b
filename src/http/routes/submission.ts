/**
 * Shared by the routes that start executions (POST /v1/execute, POST /v1/tools/{name}/invoke): who
 * owns the execution, and the response for a finished run (200) or one waiting for approval (202
 * `{ id, status: "pending_approval", approval: { id, expiresAt } }` with a Location to poll).
 */
import type { Context } from "hono";
import type { PipelineContext, Submission } from "../../executor/pipeline.js";
import { formatTraceparent } from "../trace-context.js";
import type { AppEnv } from "../types.js";

/** The principal's name: the owner of what it starts. `anonymous` only under --no-auth. */
export function ownerOf(c: Context<AppEnv>): string {
  return c.get("principal")?.name ?? "anonymous";
}

export function pipelineContext(c: Context<AppEnv>, serverEnv?: Record<string, string>): PipelineContext {
  const keyName = c.get("keyName");
  return {
    requestId: c.get("requestId"),
    owner: ownerOf(c),
    traceId: c.get("trace").traceId,
    traceparent: formatTraceparent(c.get("trace")),
    ...(keyName !== undefined ? { keyName } : {}),
    signal: c.req.raw.signal,
    ...(serverEnv ? { serverEnv } : {}),
  };
}

export function respondSubmission(c: Context<AppEnv>, submission: Submission) {
  if (submission.status === "pending_approval") {
    c.header("Location", `/v1/executions/${submission.id}`);
    return c.json({ id: submission.id, status: submission.status, approval: submission.approval }, 202);
  }
  return c.json(submission.response);
}

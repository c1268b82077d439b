/**
 * POST /v1/execute: run code once in a fresh sandboxed interpreter. Needs the `execute` scope; runs
 * under the key's concurrency cap and the server's default policy (which may deny it, or answer 202
 * and wait for a human); hands the request id and traceparent to the guest only when the request
 * says `exposeRequestId: true`; raises ops alerts on sandbox violations and counts limit hits.
 */
import { type Context, Hono } from "hono";
import { ServiceError } from "../../errors.js";
import type { Submission } from "../../executor/pipeline.js";
import { QueueFullError } from "../../throttle/concurrency-limiter.js";
import { clientKey } from "../client-ip.js";
import { validationError } from "../errors.js";
import { alertFields, type HttpGuards, reportLimitHit } from "../guards.js";
import { readJsonBody } from "../json-body.js";
import { requireScope } from "../middleware/require-scope.js";
import { type ExecuteResponse, executeRequestSchema } from "../schemas.js";
import type { ServicesProvider } from "../services.js";
import { formatTraceparent } from "../trace-context.js";
import type { AppEnv } from "../types.js";
import { pipelineContext, respondSubmission } from "./submission.js";

/** Environment variables set in the guest when the request asks for its correlation ids. */
export const GUEST_REQUEST_ID_ENV = "SANDBOX_REQUEST_ID";
export const GUEST_TRACEPARENT_ENV = "TRACEPARENT";

const LIMIT_OUTCOMES = new Set(["TIMEOUT", "MEMORY_LIMIT", "OUTPUT_LIMIT", "FILESYSTEM_LIMIT"]);

export function executeRoutes(services: ServicesProvider, bodyLimitBytes: number, guards: HttpGuards) {
  let schema: ReturnType<typeof executeRequestSchema> | undefined;
  return new Hono<AppEnv>().post("/v1/execute", requireScope("execute"), async (c) => {
    const s = services();
    if (!s) throw new ServiceError("NOT_READY");
    schema ??= executeRequestSchema(s.limits);
    const parsed = schema.safeParse(await readJsonBody(c, bodyLimitBytes));
    if (!parsed.success) throw validationError(parsed.error);
    const { exposeRequestId, ...body } = parsed.data;
    const release = await acquireSlot(guards, c);
    let submission: Submission;
    try {
      submission = await s.pipeline.execute(body, pipelineContext(c, exposeRequestId ? correlationEnv(c) : undefined));
    } finally {
      release();
    }
    if (submission.status === "completed") observeOutcome(guards, c, submission.response);
    return respondSubmission(c, submission);
  });
}

/** The variables a guest gets when the request asks for its correlation ids (they override `env`). */
function correlationEnv(c: Context<AppEnv>): Record<string, string> {
  return {
    [GUEST_REQUEST_ID_ENV]: c.get("requestId"),
    [GUEST_TRACEPARENT_ENV]: formatTraceparent(c.get("trace")),
  };
}

export async function acquireSlot(guards: HttpGuards, c: Context<AppEnv>): Promise<() => void> {
  const name = c.get("keyName");
  const lane = name !== undefined ? `key:${name}` : `client:${clientKey(c.get("clientIp"))}`;
  try {
    return await guards.concurrency.acquire(lane, c.req.raw.signal);
  } catch (error) {
    if (!(error instanceof QueueFullError)) throw error;
    reportLimitHit(guards, c, "concurrency");
    c.header("Retry-After", "1");
    throw new ServiceError("TOO_MANY_CONCURRENT");
  }
}

export function observeOutcome(guards: HttpGuards, c: Context<AppEnv>, result: ExecuteResponse): void {
  const code = result.error?.code;
  if (code === "SANDBOX_VIOLATION") {
    guards.alerts.notify({
      type: "sandbox.violation",
      severity: "critical",
      summary: `sandbox violation in execution ${result.id}`,
      ...alertFields(c),
      details: { executionId: result.id, language: result.language, sandbox: result.sandbox },
    });
  } else if (code !== undefined && LIMIT_OUTCOMES.has(code)) {
    reportLimitHit(guards, c, code);
  }
}

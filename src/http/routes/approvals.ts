/**
 * Human approval of runs (kind `run`) and of single effects of running executions (kind `effect`):
 *   GET  /v1/approvals[?status=pending&kind=effect&limit=N]   (scope `approve` or `admin`)
 *   GET  /v1/approvals/{id}                       (scope `approve` or `admin`)
 *   POST /v1/approvals/{id}/approve  { reason }   (scope `approve`)
 *   POST /v1/approvals/{id}/deny     { reason }   (scope `approve`)
 * The key that asked for an execution can never decide it, not even with `admin`. Deciding an
 * effect approval answers `execution: { status: "running" }`: the execution goes on either way.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { approvalView } from "../../approvals/view.js";
import { ServiceError } from "../../errors.js";
import {
  APPROVAL_KINDS,
  APPROVAL_STATUSES,
  type ApprovalKind,
  type ApprovalRecord,
  type ApprovalStatus,
} from "../../store/store.js";
import { errorResponse, validationError } from "../errors.js";
import { readJsonBody } from "../json-body.js";
import { requireScope } from "../middleware/require-scope.js";
import { approvalDecisionSchema } from "../schemas.js";
import type { Services, ServicesProvider } from "../services.js";
import type { AppEnv } from "../types.js";
import { ownerOf } from "./submission.js";

const MAX_LIST = 500;
const DEFAULT_LIST = 100;

function ready(services: ServicesProvider): Services {
  const s = services();
  if (!s) throw new ServiceError("NOT_READY");
  return s;
}

/** Reading approvals: approvers, and admins (who may watch but, without `approve`, not decide). */
function requireApproverOrAdmin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const scopes = c.get("principal")?.scopes;
    if (!scopes) return errorResponse(c, "UNAUTHORIZED");
    if (!scopes.has("approve") && !scopes.has("admin")) {
      return errorResponse(c, "FORBIDDEN", "this API key lacks the approve (or admin) scope");
    }
    await next();
  };
}

interface ListQuery {
  readonly status: ApprovalStatus | undefined;
  readonly kind: ApprovalKind | undefined;
  readonly limit: number;
}

function listQuery(c: Context<AppEnv>): ListQuery {
  const status = c.req.query("status");
  const kind = c.req.query("kind");
  const limit = c.req.query("limit");
  const issues: Array<{ path: string; message: string }> = [];
  if (status !== undefined && !(APPROVAL_STATUSES as readonly string[]).includes(status)) {
    issues.push({ path: "status", message: `must be one of ${APPROVAL_STATUSES.join(", ")}` });
  }
  if (kind !== undefined && !(APPROVAL_KINDS as readonly string[]).includes(kind)) {
    issues.push({ path: "kind", message: `must be one of ${APPROVAL_KINDS.join(", ")}` });
  }
  if (limit !== undefined && !(/^\d{1,4}$/.test(limit) && Number(limit) >= 1 && Number(limit) <= MAX_LIST)) {
    issues.push({ path: "limit", message: `must be 1-${MAX_LIST}` });
  }
  if (issues.length > 0) {
    throw new ServiceError("VALIDATION_FAILED", issues.map((i) => `${i.path}: ${i.message}`).join("; "), { issues });
  }
  return {
    status: status as ApprovalStatus | undefined,
    kind: kind as ApprovalKind | undefined,
    limit: limit === undefined ? DEFAULT_LIST : Number(limit),
  };
}

/** After a decision: a run moves (approved -> running, denied -> denied); an effect's execution keeps running. */
function executionAfter(approval: ApprovalRecord, runStatus: "running" | "denied") {
  return { id: approval.executionId, status: approval.kind === "effect" ? ("running" as const) : runStatus };
}

async function decisionReason(c: Context<AppEnv>): Promise<string> {
  const parsed = approvalDecisionSchema.safeParse(await readJsonBody(c, 64 * 1024));
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data.reason;
}

export function approvalsRoutes(services: ServicesProvider) {
  return new Hono<AppEnv>()
    .get("/v1/approvals", requireApproverOrAdmin(), async (c) => {
      const s = ready(services);
      const { status, kind, limit } = listQuery(c);
      if (status === undefined || status === "pending") await s.approvals.expireOverdue();
      const approvals = await s.approvals.list(status, limit, kind);
      return c.json({ approvals: await Promise.all(approvals.map((a) => approvalView(a, s.store))) });
    })
    .get("/v1/approvals/:id", requireApproverOrAdmin(), async (c) => {
      const s = ready(services);
      return c.json(await approvalView(await s.approvals.get(c.req.param("id")), s.store));
    })
    .post("/v1/approvals/:id/approve", requireScope("approve"), async (c) => {
      const s = ready(services);
      const reason = await decisionReason(c);
      const approval = await s.approvals.approve(c.req.param("id"), ownerOf(c), reason, c.get("requestId"));
      c.header("Location", `/v1/executions/${approval.executionId}`);
      return c.json({
        approval: await approvalView(approval, s.store),
        execution: executionAfter(approval, "running"),
      });
    })
    .post("/v1/approvals/:id/deny", requireScope("approve"), async (c) => {
      const s = ready(services);
      const reason = await decisionReason(c);
      const approval = await s.approvals.deny(c.req.param("id"), ownerOf(c), reason, c.get("requestId"));
      return c.json({
        approval: await approvalView(approval, s.store),
        execution: executionAfter(approval, "denied"),
      });
    });
}

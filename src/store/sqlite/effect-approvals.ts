/**
 * The SQL of effect approvals (kind `effect`), kept beside the store so sqlite-store.ts stays one
 * concept. Each function runs inside a transaction the store opens; the conditional INSERT and
 * UPDATE make them atomic across processes sharing the file as well.
 */
import type { Statement } from "better-sqlite3";
import { ServiceError } from "../../errors.js";
import type { ApprovalRecord, EffectDecision, NewEffectApproval } from "../store.js";
import { type ApprovalRow, type ExecutionRow, toApproval } from "./rows.js";

type Prepare = (sql: string) => Statement;

/**
 * Inserts the pending approval only while the execution is `running` and owned by the requester;
 * the tool columns come from the execution row (the store's record wins over the caller's say-so).
 * Throws a ServiceError (nothing written) otherwise.
 */
export function insertEffectApproval(prepare: Prepare, a: NewEffectApproval): void {
  const inserted = prepare(
    `INSERT INTO approvals (id, execution_id, kind, status, requested_by, tool_name, tool_version, code_hash,
         input_hash, effect, reason, created_at, expires_at)
       SELECT ?, id, 'effect', 'pending', owner, tool_name, tool_version, '', '', ?, ?, ?, ?
         FROM executions WHERE id = ? AND status = 'running' AND owner = ?`,
  ).run(a.id, JSON.stringify(a.effect), a.reason, a.createdAt, a.expiresAt, a.executionId, a.requestedBy).changes;
  if (inserted === 1) return;
  const row = prepare("SELECT * FROM executions WHERE id = ?").get(a.executionId) as ExecutionRow | undefined;
  if (!row) throw new ServiceError("NOT_FOUND", `no execution ${a.executionId}`);
  if (row.owner !== a.requestedBy) {
    throw new ServiceError("FORBIDDEN", "an effect approval must be requested by the execution's owner");
  }
  throw new ServiceError(
    "APPROVAL_NOT_PENDING",
    `execution ${a.executionId} is ${row.status}, not running: its effect cannot wait for approval`,
  );
}

/** Compare-and-set from `pending`; never touches the execution. */
export function decideEffect(
  prepare: Prepare,
  id: string,
  d: EffectDecision,
): { ok: true; approval: ApprovalRecord } | { ok: false; current: ApprovalRecord | undefined } {
  const guards = [
    d.to === "approved" ? " AND expires_at > ?" : "",
    d.requireRunning
      ? " AND EXISTS (SELECT 1 FROM executions e WHERE e.id = approvals.execution_id AND e.status = 'running')"
      : "",
  ].join("");
  const params: unknown[] = [d.to, d.by, d.at, d.reason, id];
  if (d.to === "approved") params.push(d.at);
  const changed = prepare(
    `UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ?
       WHERE id = ? AND kind = 'effect' AND status = 'pending'${guards}`,
  ).run(...params).changes;
  const row = prepare("SELECT * FROM approvals WHERE id = ?").get(id) as ApprovalRow | undefined;
  const current = row ? toApproval(row) : undefined;
  if (changed !== 1 || !current) return { ok: false, current };
  return { ok: true, approval: current };
}

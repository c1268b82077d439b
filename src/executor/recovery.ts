/**
 * Startup and periodic recovery of what a dead process left behind.
 *
 * - Executions left `running`: once nothing could still be running them (no activity for longer
 *   than the longest possible run plus a grace period), they are closed as completed with an
 *   INTERNAL error and a `completed` event. They are never re-run: a run may already have had
 *   effects. Time an effect spent waiting for a human does not count against the run (its deadline
 *   is paused), so activity includes the effect approvals: an execution with a pending one is left
 *   alone, and the clock starts again at the last decision.
 * - Effect approvals left `pending` (startup only): their guest is gone with the process that held
 *   it, so they are closed as `expired` (cause `server_restart`). This assumes one process owns the
 *   store's running executions, as the in-memory waiters do (docs/tools-and-approvals.md).
 */
import { closedByRestart, type EffectApprovals } from "../approvals/effect-approvals.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { LimitPolicy } from "../config.js";
import type { ControlStore, ExecutionRecord, RecordError } from "../store/store.js";

export async function closeInterrupted(
  store: ControlStore,
  audit: AuditLog,
  limits: LimitPolicy,
  now: number,
  graceMs: number,
): Promise<number> {
  const cutoff = now - (limits.maxima.timeoutMs + limits.maxima.killGraceMs + graceMs);
  const stale = (await store.listExecutions("running")).filter((e) => e.updatedAt < cutoff);
  let closed = 0;
  for (const execution of stale) {
    if ((await lastActivity(store, execution)) >= cutoff) continue;
    const error: RecordError = { code: "INTERNAL", message: "the server stopped while this execution was running" };
    const completed = audit.event(execution.id, execution.requestId, "completed", { status: "completed", error });
    const events = await store.updateExecution(execution.id, ["running"], { status: "completed", error }, now, [
      completed,
    ]);
    if (events) closed++;
    audit.publish(events);
  }
  return closed;
}

/** The latest sign of life: the record's update, or an effect approval (infinite while one is pending). */
async function lastActivity(store: ControlStore, execution: ExecutionRecord): Promise<number> {
  let last = execution.updatedAt;
  for (const approval of await store.listApprovalsForExecution(execution.id)) {
    if (approval.kind !== "effect") continue;
    if (approval.status === "pending") return Number.POSITIVE_INFINITY;
    const at = closedByRestart(approval) ? approval.createdAt : (approval.decidedAt ?? approval.createdAt);
    last = Math.max(last, at);
  }
  return last;
}

/** Closes every pending effect approval (startup only, before any execution runs); returns how many. */
export async function closeOrphanedEffectApprovals(store: ControlStore, effects: EffectApprovals): Promise<number> {
  let closed = 0;
  for (;;) {
    const pending = await store.listApprovals({ status: "pending", kind: "effect", limit: 500 });
    let progressed = false;
    for (const approval of pending) {
      const execution = await store.getExecution(approval.executionId);
      if (await effects.close(approval, "server_restart", execution?.requestId ?? "system")) {
        closed++;
        progressed = true;
      }
    }
    if (pending.length < 500 || !progressed) return closed;
  }
}

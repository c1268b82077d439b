/**
 * Executions left `running` by a process that died: once nothing could still be running them (no
 * update for longer than the longest possible run plus a grace period), they are closed as completed
 * with an INTERNAL error and a `completed` event. They are never re-run: a run may already have had
 * effects.
 */
import type { AuditLog } from "../audit/audit-log.js";
import type { LimitPolicy } from "../config.js";
import type { ControlStore, RecordError } from "../store/store.js";

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

/**
 * The execution record and its timeline:
 *   GET /v1/executions/{id}[?wait=30s]   `{ id, status, result?, error?, events, ... }`; with `wait`,
 *                                        answers once the execution is finished (or the wait is over)
 *   GET /v1/executions/{id}/events       the events as Server-Sent Events, stored ones first, then live,
 *                                        closing after `completed` (resume with Last-Event-ID)
 * A key sees only the executions it started, unless it has `admin`; anyone else gets the same 404 as
 * for an id that does not exist (no existence oracle).
 */
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { AuditEvent } from "../../audit/event.js";
import { ServiceError } from "../../errors.js";
import { type ExecutionRecord, TERMINAL_STATUSES } from "../../store/store.js";
import type { Services, ServicesProvider } from "../services.js";
import type { AppEnv } from "../types.js";

const HEARTBEAT_MS = 15_000;

function ready(services: ServicesProvider): Services {
  const s = services();
  if (!s) throw new ServiceError("NOT_READY");
  return s;
}

/** `30s`, `500ms`, `30` (seconds). */
export function parseWait(raw: string | undefined, maxMs: number): number {
  if (raw === undefined) return 0;
  const match = /^(\d{1,7})(ms|s)?$/.exec(raw);
  if (!match) {
    throw new ServiceError("VALIDATION_FAILED", "wait must look like 30s, 500ms or 30", {
      issues: [{ path: "wait", message: "must look like 30s, 500ms or 30" }],
    });
  }
  const ms = match[2] === "ms" ? Number(match[1]) : Number(match[1]) * 1000;
  return Math.min(ms, maxMs);
}

/** The record, if this principal may see it; otherwise the same 404 as a missing id. */
async function visibleExecution(s: Services, c: Context<AppEnv>, id: string): Promise<ExecutionRecord> {
  const principal = c.get("principal");
  const record = /^exec_[A-Za-z0-9_-]{1,64}$/.test(id) ? await s.store.getExecution(id) : undefined;
  if (!record || !principal || (record.owner !== principal.name && !principal.scopes.has("admin"))) {
    throw new ServiceError("NOT_FOUND", "no such execution");
  }
  return record;
}

/** Resolves when the execution emits `completed`, after `ms`, or when the client goes away. */
function waitForCompletion(
  s: Services,
  id: string,
  ms: number,
  signal: AbortSignal,
): { done: Promise<void>; cancel(): void } {
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const timer = setTimeout(() => finish(), ms);
  const unsubscribe = s.audit.subscribe(id, (event) => {
    if (event.type === "completed") finish();
  });
  const onAbort = () => finish();
  signal.addEventListener("abort", onAbort);
  const cancel = () => {
    clearTimeout(timer);
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
    finish();
  };
  void done.then(cancel);
  return { done, cancel };
}

async function recordView(s: Services, record: ExecutionRecord) {
  const approval = await s.store.getApprovalForExecution(record.id);
  return {
    id: record.id,
    status: record.status,
    kind: record.kind,
    ...(record.toolName !== undefined && record.toolVersion !== undefined
      ? { tool: { name: record.toolName, version: record.toolVersion } }
      : {}),
    dryRun: record.dryRun,
    owner: record.owner,
    requestId: record.requestId,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    ...(approval
      ? {
          approval: {
            id: approval.id,
            status: approval.status,
            expiresAt: new Date(approval.expiresAt).toISOString(),
            ...(approval.decidedBy !== undefined ? { decidedBy: approval.decidedBy } : {}),
            ...(approval.decisionReason !== undefined ? { decisionReason: approval.decisionReason } : {}),
          },
        }
      : {}),
    ...(record.result !== undefined ? { result: record.result } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    events: await s.store.listEvents(record.id),
  };
}

export function executionsRoutes(services: ServicesProvider) {
  return new Hono<AppEnv>()
    .get("/v1/executions/:id", async (c) => {
      const s = ready(services);
      const id = c.req.param("id");
      const waitMs = parseWait(c.req.query("wait"), s.maxWaitMs);
      let record = await visibleExecution(s, c, id);
      if (waitMs > 0 && !TERMINAL_STATUSES.has(record.status)) {
        const wait = waitForCompletion(s, id, waitMs, c.req.raw.signal);
        // Read again after subscribing: a completion between the two reads is not missed.
        record = (await s.store.getExecution(id)) ?? record;
        if (!TERMINAL_STATUSES.has(record.status)) await wait.done;
        wait.cancel();
        record = (await s.store.getExecution(id)) ?? record;
      }
      return c.json(await recordView(s, record));
    })
    .get("/v1/executions/:id/events", async (c) => {
      const s = ready(services);
      const id = c.req.param("id");
      await visibleExecution(s, c, id);
      const resumeFrom = Number(c.req.header("last-event-id") ?? "0");
      const log = c.get("logger");
      return streamSSE(
        c,
        async (stream) => {
          const queue: AuditEvent[] = [];
          let wake = () => {};
          const unsubscribe = s.audit.subscribe(id, (event) => {
            queue.push(event);
            wake();
          });
          let closed = false;
          stream.onAbort(() => {
            closed = true;
            wake();
          });
          try {
            let last = Number.isSafeInteger(resumeFrom) && resumeFrom > 0 ? resumeFrom : 0;
            let finished = false;
            const send = async (event: AuditEvent) => {
              if (event.seq <= last) return;
              await stream.writeSSE({ id: String(event.seq), event: event.type, data: JSON.stringify(event) });
              last = event.seq;
              if (event.type === "completed") finished = true;
            };
            for (const event of await s.store.listEvents(id, last)) await send(event);
            while (!finished && !closed) {
              if (queue.length === 0) {
                await new Promise<void>((resolve) => {
                  const timer = setTimeout(resolve, HEARTBEAT_MS);
                  wake = () => {
                    clearTimeout(timer);
                    resolve();
                  };
                });
                if (queue.length === 0 && !closed) await stream.write(": keep-alive\n\n");
              }
              for (const event of queue.splice(0).sort((a, b) => a.seq - b.seq)) await send(event);
            }
          } finally {
            unsubscribe();
          }
        },
        async (error) => {
          log.error({ err: error, executionId: id }, "event stream failed");
        },
      );
    });
}

/**
 * Audit events: the versioned JSON records of the execution timeline (the flight recorder). Every
 * step of an execution emits one; they are stored durably, separate from operational logs, and read
 * back in order through GET /v1/executions/{id} and its SSE stream.
 *
 * Shape (version 1): `{ v: 1, id, seq, time, requestId, executionId, type, ...fields }`. `requestId`
 * is the request that caused the step (the approver's request for approval events). Fields never
 * hold guest output, input values or secret values: only names, hashes, sizes and codes.
 */
import { randomBase64url } from "../random-ids.js";

export const AUDIT_EVENT_VERSION = 1;

export const AUDIT_EVENT_TYPES = [
  "received",
  "policy_decision",
  "secret_scan",
  "approval_requested",
  "approval_approved",
  "approval_denied",
  "approval_expired",
  "sandbox_started",
  "effect",
  "limit_hit",
  "sandbox_violation",
  "completed",
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  readonly v: typeof AUDIT_EVENT_VERSION;
  readonly id: string;
  /** 1, 2, 3... per execution: the order of the timeline. */
  readonly seq: number;
  readonly time: string;
  readonly requestId: string;
  readonly executionId: string;
  readonly type: AuditEventType;
  readonly [field: string]: unknown;
}

/** What a caller hands to the store; the store assigns `seq`. */
export interface AuditEventInput {
  readonly id: string;
  readonly executionId: string;
  readonly requestId: string;
  readonly type: AuditEventType;
  readonly time: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

export function newEventId(): string {
  return `evt_${randomBase64url(12)}`;
}

const RESERVED = new Set(["v", "id", "seq", "time", "requestId", "executionId", "type"]);

/** The stored form: reserved keys always win over same-named fields. */
export function buildEvent(input: AuditEventInput, seq: number): AuditEvent {
  const fields = Object.fromEntries(Object.entries(input.fields).filter(([key]) => !RESERVED.has(key)));
  return {
    v: AUDIT_EVENT_VERSION,
    id: input.id,
    seq,
    time: new Date(input.time).toISOString(),
    requestId: input.requestId,
    executionId: input.executionId,
    type: input.type,
    ...fields,
  };
}

/**
 * Approval of one effect of a running execution (issue 8). Under `approval: "on-effect"` the guest's
 * HTTP call is held (its worker thread blocked, its deadline paused) while `ask` records a pending
 * approval of kind `effect` and waits for a human to decide it through the approvals API.
 *
 * - The decision is the store's compare-and-set, so exactly one of any number of concurrent
 *   decisions (approve, deny, expiry, the end of the execution) wins, whichever process makes it.
 * - Waiters live in memory (the process that runs an execution owns its waits): a decision made
 *   through this object wakes its waiter at once; one made elsewhere (another instance or process
 *   on the same store) is seen by a poll of the store every `pollMs`.
 * - Deciding never moves the execution: it keeps running, and the guest's call proceeds or fails.
 *   A decision is refused once the execution is no longer `running` (its guest is gone).
 * - Fail closed: `ask` rejects when the approval cannot be recorded (the egress layer answers
 *   EGRESS_APPROVAL_UNAVAILABLE), and a wait the store cannot settle ends as `expired` at its TTL.
 * - `ask` never rejects after its signal aborted: it resolves `expired` once the approval is closed,
 *   so a caller racing the signal leaves no unhandled rejection behind.
 */
import type { AuditLog } from "../audit/audit-log.js";
import { ServiceError } from "../errors.js";
import type { Logger } from "../logger.js";
import { randomBase64url } from "../random-ids.js";
import type { ApprovalRecord, ControlStore, EffectDetail } from "../store/store.js";

export type EffectAnswer = "approved" | "denied" | "expired";

export interface EffectApprovalRequest {
  readonly executionId: string;
  /** The request that started the execution: it goes on the events the wait itself records. */
  readonly requestId: string;
  /** The execution's owner; never allowed to decide. The store refuses anyone else. */
  readonly requestedBy: string;
  /** Informational: the store takes the tool from the execution's own record. */
  readonly tool?: { readonly name: string; readonly version: number };
  readonly effect: EffectDetail;
  /** Why the policy asks a human (shown to approvers and in the timeline). */
  readonly reason: string;
}

/** Why an effect approval ended without a human decision. */
export type CloseCause = "ttl" | "execution_ended" | "server_restart";

const CLOSE_REASONS: Record<CloseCause, string> = {
  ttl: "expired before anyone decided it",
  execution_ended: "the execution ended while the effect waited",
  server_restart: "the server restarted while the effect waited; its guest is gone",
};

export interface EffectApprovalsOptions {
  readonly store: ControlStore;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** How long an effect waits for a decision (the tool approvals' `SANDBOX_APPROVAL_TTL_MS`). */
  readonly ttlMs: number;
  /** How often a waiter reads the store for a decision made elsewhere. */
  readonly pollMs?: number;
  readonly now?: () => number;
}

export const SYSTEM_ACTOR = "system";

/** True when the approval was closed because a restart found it orphaned (not a sign of a live guest). */
export function closedByRestart(approval: ApprovalRecord): boolean {
  return approval.decidedBy === SYSTEM_ACTOR && approval.decisionReason === CLOSE_REASONS.server_restart;
}
const DEFAULT_POLL_MS = 1000;

export function newApprovalId(): string {
  return `apr_${randomBase64url(16)}`;
}

const answerOf = (status: ApprovalRecord["status"]): EffectAnswer | undefined =>
  status === "pending" ? undefined : status;

type Closable = Pick<ApprovalRecord, "id" | "executionId" | "expiresAt">;

export class EffectApprovals {
  private readonly waiters = new Map<string, (answer: EffectAnswer) => void>();
  private readonly now: () => number;
  private readonly pollMs: number;

  constructor(private readonly options: EffectApprovalsOptions) {
    this.now = options.now ?? Date.now;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /** Waits currently held by this instance. */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Records the pending approval (with an `approval_requested` event) and waits for its outcome.
   * Rejects when it cannot be recorded; resolves `expired` at once when `signal` is already aborted.
   * Usable as the egress `Approver`: `(prompt) => approvals.ask({ ..., effect: prompt }, signal)`.
   */
  async ask(request: EffectApprovalRequest, signal?: AbortSignal): Promise<EffectAnswer> {
    if (signal?.aborted) return "expired";
    const { store, audit } = this.options;
    const id = newApprovalId();
    const createdAt = this.now();
    const expiresAt = createdAt + this.options.ttlMs;
    const approval: Closable = { id, executionId: request.executionId, expiresAt };
    let settle: (answer: EffectAnswer) => void = () => {};
    const outcome = new Promise<EffectAnswer>((resolve) => {
      settle = resolve;
    });
    // Registered before the insert: a decision racing the commit still finds its waiter.
    this.waiters.set(id, (answer) => settle(answer));
    try {
      const requested = audit.event(request.executionId, request.requestId, "approval_requested", {
        approvalId: id,
        kind: "effect",
        effect: request.effect,
        expiresAt: new Date(expiresAt).toISOString(),
        reason: request.reason,
      });
      const events = await store.requestEffectApproval(
        {
          id,
          executionId: request.executionId,
          requestedBy: request.requestedBy,
          effect: request.effect,
          reason: request.reason,
          createdAt,
          expiresAt,
        },
        [requested],
      );
      audit.publish(events);
    } catch (error) {
      this.waiters.delete(id);
      throw error;
    }
    return this.wait(approval, request.requestId, outcome, signal);
  }

  private wait(
    approval: Closable,
    requestId: string,
    outcome: Promise<EffectAnswer>,
    signal: AbortSignal | undefined,
  ): Promise<EffectAnswer> {
    const log = this.options.logger.child({ executionId: approval.executionId, approvalId: approval.id });
    let settled = false;
    let checking = false;
    const finish = (answer: EffectAnswer) => this.waiters.get(approval.id)?.(answer);
    /** Closes the approval in the store if it is still pending, then ends the wait (fail closed). */
    const closeThenFinish = async (cause: CloseCause) => {
      try {
        if (!(await this.close(approval, cause, requestId))) {
          const current = await this.options.store.getApproval(approval.id);
          finish((current && answerOf(current.status)) ?? "expired");
          return;
        }
      } catch (error) {
        log.error({ err: error }, "could not close an effect approval; the effect stays refused");
      }
      finish("expired");
    };
    const check = async () => {
      if (checking || settled) return;
      checking = true;
      try {
        const current = await this.options.store.getApproval(approval.id);
        const answer = current ? answerOf(current.status) : "expired";
        if (answer) return finish(answer);
        if (approval.expiresAt <= this.now()) return await closeThenFinish("ttl");
        const execution = await this.options.store.getExecution(approval.executionId);
        if (execution?.status !== "running") await closeThenFinish("execution_ended");
      } catch (error) {
        log.warn({ err: error }, "polling an effect approval failed; retrying");
      } finally {
        checking = false;
      }
    };
    const ttl = setTimeout(() => void closeThenFinish("ttl"), Math.max(0, approval.expiresAt - this.now()));
    const poll = setInterval(() => void check(), this.pollMs);
    ttl.unref();
    poll.unref();
    const onAbort = () => void closeThenFinish("execution_ended");
    signal?.addEventListener("abort", onAbort, { once: true });
    return outcome.finally(() => {
      settled = true;
      clearTimeout(ttl);
      clearInterval(poll);
      signal?.removeEventListener("abort", onAbort);
      this.waiters.delete(approval.id);
    });
  }

  /**
   * A human decision through the approvals API. Refuses the requester, a decided or expired
   * approval, and an execution that is no longer running (closing the approval on the way).
   */
  async decide(
    approval: ApprovalRecord,
    to: "approved" | "denied",
    by: string,
    reason: string,
    requestId: string,
  ): Promise<ApprovalRecord> {
    const { store, audit } = this.options;
    if (approval.requestedBy === by) {
      throw new ServiceError("SELF_APPROVAL_FORBIDDEN", "the key that requested this execution cannot decide it");
    }
    await this.refuseUndecidable(approval, requestId);
    const at = this.now();
    const type = to === "approved" ? "approval_approved" : "approval_denied";
    const event = audit.event(approval.executionId, requestId, type, {
      approvalId: approval.id,
      kind: "effect",
      by,
      reason,
    });
    const decided = await store.decideEffectApproval(approval.id, { to, by, reason, at, requireRunning: true }, [
      event,
    ]);
    if (decided.ok) {
      audit.publish(decided.events);
      this.waiters.get(approval.id)?.(to);
      return decided.approval;
    }
    const current = decided.current;
    if (current?.status === "pending" && current.expiresAt > at) {
      // Still pending and in time: only the running guard failed.
      await this.close(current, "execution_ended", requestId);
      throw new ServiceError("APPROVAL_NOT_PENDING", "the execution is no longer running; its effect cannot proceed");
    }
    if (current) await this.refuseUndecidable(current, requestId);
    throw new ServiceError("APPROVAL_NOT_PENDING");
  }

  private async refuseUndecidable(approval: ApprovalRecord, requestId: string): Promise<void> {
    if (approval.status === "pending" && approval.expiresAt <= this.now()) {
      await this.close(approval, "ttl", requestId);
      throw new ServiceError("APPROVAL_EXPIRED", "the effect approval expired before it was decided");
    }
    if (approval.status === "expired" && approval.decisionReason === CLOSE_REASONS.ttl) {
      throw new ServiceError("APPROVAL_EXPIRED", "the effect approval expired before it was decided");
    }
    if (approval.status === "expired") {
      // Closed because its execution ended (or the server restarted): not a matter of being late.
      throw new ServiceError(
        "APPROVAL_NOT_PENDING",
        `the approval was closed: ${approval.decisionReason ?? "expired"}`,
      );
    }
    if (approval.status !== "pending") {
      throw new ServiceError("APPROVAL_NOT_PENDING", `the approval is already ${approval.status}`);
    }
  }

  /**
   * Closes a pending effect approval as `expired` (by `system`, with an `approval_expired` event
   * naming the cause) and wakes its waiter. False when it was no longer pending.
   */
  async close(approval: Closable, cause: CloseCause, requestId: string): Promise<boolean> {
    const { store, audit } = this.options;
    const decided = await store.decideEffectApproval(
      approval.id,
      { to: "expired", by: SYSTEM_ACTOR, reason: CLOSE_REASONS[cause], at: this.now(), requireRunning: false },
      [
        audit.event(approval.executionId, requestId, "approval_expired", {
          approvalId: approval.id,
          kind: "effect",
          expiresAt: new Date(approval.expiresAt).toISOString(),
          cause,
        }),
      ],
    );
    if (!decided.ok) return false;
    audit.publish(decided.events);
    this.waiters.get(approval.id)?.("expired");
    return true;
  }
}

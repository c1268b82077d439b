/**
 * Human approval of runs the policy prompts for. An approval is single use and bound to the exact
 * tool version, code hash and input hash it was requested for: any change voids it. Deciding is a
 * compare-and-set in the store, so of any number of concurrent approvals exactly one wins and runs
 * the execution. The key that asked can never decide its own request, whatever its scopes.
 * Undecided approvals expire (`APPROVAL_EXPIRED`); a sweeper closes them even if nobody looks.
 *
 * Approvals of one effect of a running execution (kind `effect`) share the listing, the routes and
 * the sweeper; deciding them is delegated to `effects` (src/approvals/effect-approvals.ts), which
 * never launches, moves or completes the execution.
 */
import type { AuditLog } from "../audit/audit-log.js";
import { ServiceError } from "../errors.js";
import type { Logger } from "../logger.js";
import type {
  ApprovalKind,
  ApprovalRecord,
  ApprovalStatus,
  ControlStore,
  ExecutionRecord,
  RecordError,
} from "../store/store.js";
import { EffectApprovals, SYSTEM_ACTOR } from "./effect-approvals.js";

export interface ApprovalBinding {
  /** Why `approval` no longer matches what would run, or undefined when it still does. */
  mismatch(execution: ExecutionRecord, approval: ApprovalRecord): Promise<string | undefined>;
  /** Starts the approved run (in the background). */
  launch(executionId: string, requestId: string): void;
}

export interface ApprovalServiceOptions {
  readonly store: ControlStore;
  readonly audit: AuditLog;
  readonly binding: ApprovalBinding;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How long an effect waits for a decision; pass the server's `approvalTtlMs`. */
  readonly effectTtlMs?: number;
  /** The effect approvals to decide through this service; built from the options above when absent. */
  readonly effects?: EffectApprovals;
}

/** Who decides an approval that became void or expired by itself. */
export { SYSTEM_ACTOR };

/** The default of SANDBOX_APPROVAL_TTL_MS, for an ApprovalService built without `effectTtlMs`. */
const DEFAULT_EFFECT_TTL_MS = 15 * 60_000;

export class ApprovalService {
  private readonly now: () => number;
  /** Per-effect approvals; `effects.ask` is the egress `Approver` of running executions. */
  readonly effects: EffectApprovals;

  constructor(private readonly options: ApprovalServiceOptions) {
    this.now = options.now ?? Date.now;
    this.effects =
      options.effects ??
      new EffectApprovals({
        store: options.store,
        audit: options.audit,
        logger: options.logger,
        now: this.now,
        ttlMs: options.effectTtlMs ?? DEFAULT_EFFECT_TTL_MS,
      });
  }

  /** Both kinds unless `kind` says which, newest first. */
  list(status: ApprovalStatus | undefined, limit: number, kind?: ApprovalKind): Promise<ApprovalRecord[]> {
    return this.options.store.listApprovals({ ...(status ? { status } : {}), ...(kind ? { kind } : {}), limit });
  }

  async get(id: string): Promise<ApprovalRecord> {
    const approval = await this.options.store.getApproval(id);
    if (!approval) throw new ServiceError("NOT_FOUND", "no such approval");
    return approval;
  }

  /** Checks shared by approve and deny; expires an overdue approval on the way. */
  private async decidable(approval: ApprovalRecord, by: string, requestId: string): Promise<ApprovalRecord> {
    if (approval.requestedBy === by) {
      throw new ServiceError("SELF_APPROVAL_FORBIDDEN", "the key that requested this execution cannot decide it");
    }
    if (approval.status === "pending" && approval.expiresAt <= this.now()) {
      await this.expire(approval, requestId);
      throw new ServiceError("APPROVAL_EXPIRED");
    }
    this.refuseDecided(approval);
    return approval;
  }

  private refuseDecided(current: ApprovalRecord | undefined): void {
    if (current?.status === "expired") throw new ServiceError("APPROVAL_EXPIRED");
    if (current?.status !== "pending") {
      throw new ServiceError("APPROVAL_NOT_PENDING", `the approval is already ${current?.status ?? "gone"}`);
    }
  }

  async approve(id: string, by: string, reason: string, requestId: string): Promise<ApprovalRecord> {
    const { store, audit, binding } = this.options;
    const found = await this.get(id);
    if (found.kind === "effect") return this.effects.decide(found, "approved", by, reason, requestId);
    const approval = await this.decidable(found, by, requestId);
    const execution = await store.getExecution(approval.executionId);
    const mismatch = execution ? await binding.mismatch(execution, approval) : "the execution is gone";
    if (mismatch !== undefined) {
      const error: RecordError = { code: "APPROVAL_MISMATCH", message: `approval void: ${mismatch}` };
      const voided = await store.decideApproval(
        id,
        { to: "denied", by: SYSTEM_ACTOR, reason: error.message, at: this.now() },
        error,
        [
          audit.event(approval.executionId, requestId, "approval_denied", {
            approvalId: id,
            by: SYSTEM_ACTOR,
            reason: error.message,
            requestedDecisionBy: by,
          }),
          audit.event(approval.executionId, requestId, "completed", { status: "denied", error }),
        ],
      );
      if (!voided.ok) this.refuseDecided(voided.current);
      else audit.publish(voided.events);
      throw new ServiceError("APPROVAL_MISMATCH", error.message);
    }
    const decided = await store.decideApproval(id, { to: "approved", by, reason, at: this.now() }, undefined, [
      audit.event(approval.executionId, requestId, "approval_approved", { approvalId: id, by, reason }),
    ]);
    if (!decided.ok) {
      const current = decided.current;
      if (current?.status === "pending" && current.expiresAt <= this.now()) {
        await this.expire(current, requestId);
        throw new ServiceError("APPROVAL_EXPIRED");
      }
      this.refuseDecided(current);
      throw new ServiceError("APPROVAL_NOT_PENDING");
    }
    audit.publish(decided.events);
    binding.launch(approval.executionId, requestId);
    return decided.approval;
  }

  async deny(id: string, by: string, reason: string, requestId: string): Promise<ApprovalRecord> {
    const { store, audit } = this.options;
    const found = await this.get(id);
    if (found.kind === "effect") return this.effects.decide(found, "denied", by, reason, requestId);
    const approval = await this.decidable(found, by, requestId);
    const error: RecordError = { code: "APPROVAL_DENIED", message: `denied by ${by}: ${reason}` };
    const decided = await store.decideApproval(id, { to: "denied", by, reason, at: this.now() }, error, [
      audit.event(approval.executionId, requestId, "approval_denied", { approvalId: id, by, reason }),
      audit.event(approval.executionId, requestId, "completed", { status: "denied", error }),
    ]);
    if (!decided.ok) {
      this.refuseDecided(decided.current);
      throw new ServiceError("APPROVAL_NOT_PENDING");
    }
    audit.publish(decided.events);
    return decided.approval;
  }

  /** Closes one overdue approval: approval `expired`, execution `expired`, events recorded. */
  private async expire(approval: ApprovalRecord, requestId: string): Promise<boolean> {
    const { store, audit } = this.options;
    const error: RecordError = { code: "APPROVAL_EXPIRED", message: "the approval expired before anyone decided it" };
    const decided = await store.decideApproval(
      approval.id,
      { to: "expired", by: SYSTEM_ACTOR, reason: "expired", at: this.now() },
      error,
      [
        audit.event(approval.executionId, requestId, "approval_expired", {
          approvalId: approval.id,
          expiresAt: new Date(approval.expiresAt).toISOString(),
        }),
        audit.event(approval.executionId, requestId, "completed", { status: "expired", error }),
      ],
    );
    if (!decided.ok) return false;
    audit.publish(decided.events);
    return true;
  }

  /** Expires every overdue approval; returns how many this call closed. */
  async expireOverdue(): Promise<number> {
    let closed = 0;
    for (const approval of await this.options.store.listOverdueApprovals(this.now())) {
      const execution = await this.options.store.getExecution(approval.executionId);
      const requestId = execution?.requestId ?? SYSTEM_ACTOR;
      const done =
        approval.kind === "effect"
          ? await this.effects.close(approval, "ttl", requestId)
          : await this.expire(approval, requestId);
      if (done) closed++;
    }
    return closed;
  }

  /** Runs `expireOverdue` every `intervalMs` (unref'd); returns the stop function. */
  startSweeper(intervalMs: number, extra?: () => Promise<unknown>): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.expireOverdue()
        .then(() => extra?.())
        .catch((error: unknown) => this.options.logger.error({ err: error }, "approval sweep failed"))
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}

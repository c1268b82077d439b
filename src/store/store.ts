/**
 * The control-plane store: tools and their versions, execution records, approvals and the audit
 * timeline. One interface, so an embedded SQLite file (the default) and a later Postgres or Redis
 * implementation are interchangeable. Every method is async for that reason.
 *
 * Operations that must be atomic (creating a tool version, deciding an approval) are single methods
 * here, so each implementation can make them atomic in its own way (a transaction, a conditional
 * UPDATE). Writes that record steps of an execution take the audit events of those steps and commit
 * them together with the change (one durable commit, not one per event), returning them numbered. A store that cannot be read or written rejects with ServiceError STORE_UNAVAILABLE;
 * callers never run code without the record they need (fail closed).
 */
import type { AuditEvent, AuditEventInput } from "../audit/event.js";

export type Millis = number;

export interface ToolDefinitionFields {
  readonly description: string;
  readonly inputSchema?: unknown;
  /** The validated policy as JSON (see src/policy/schema.ts). */
  readonly policy: unknown;
  readonly mocks?: unknown;
}

export interface NewToolVersion extends ToolDefinitionFields {
  readonly name: string;
  readonly language: string;
  readonly code: string;
  readonly codeHash: string;
  readonly createdBy: string;
}

export interface ToolVersionRecord extends NewToolVersion {
  readonly version: number;
  readonly createdAt: Millis;
}

export const EXECUTION_STATUSES = ["pending_approval", "running", "completed", "denied", "expired"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set(["completed", "denied", "expired"]);

export interface RecordError {
  readonly code: string;
  readonly message: string;
}

export interface ExecutionRecord {
  readonly id: string;
  /** Name of the key that asked; it alone (or an admin) may read the record. */
  readonly owner: string;
  readonly status: ExecutionStatus;
  readonly kind: "adhoc" | "tool";
  readonly toolName?: string;
  readonly toolVersion?: number;
  readonly dryRun: boolean;
  readonly requestId: string;
  readonly createdAt: Millis;
  readonly updatedAt: Millis;
  /** What to run once approved; kept only while the execution waits for approval. */
  readonly subject?: unknown;
  /** The response body, once finished. */
  readonly result?: unknown;
  /** Why the execution ended without a result (denied, expired, refused). */
  readonly error?: RecordError;
}

export type NewExecution = Omit<ExecutionRecord, "updatedAt" | "subject" | "result">;

export interface ExecutionUpdate {
  readonly status: ExecutionStatus;
  readonly result?: unknown;
  readonly error?: RecordError;
}

export const APPROVAL_STATUSES = ["pending", "approved", "denied", "expired"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/**
 * `run`: the whole execution waits (status `pending_approval`) and approving it launches the run.
 * `effect`: one effect of an execution that is already `running` waits (its guest is blocked);
 * deciding it never moves the execution.
 */
export const APPROVAL_KINDS = ["run", "effect"] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

/** What an effect approval is about. URLs are in display form (query elided); credentials by name. */
export interface EffectDetail {
  readonly kind: "egress";
  readonly method: string;
  readonly url: string;
  /** 0 for the request itself, n for the n-th redirect. */
  readonly hop: number;
  /** The name (never the value) of the secret the request would carry. */
  readonly credential?: string;
}

export interface ApprovalRecord {
  readonly id: string;
  readonly kind: ApprovalKind;
  readonly executionId: string;
  readonly status: ApprovalStatus;
  readonly requestedBy: string;
  readonly toolName?: string;
  readonly toolVersion?: number;
  /** Run approvals: what the approval is bound to. Empty for effect approvals (no binding). */
  readonly codeHash: string;
  readonly inputHash: string;
  /** Effect approvals: the effect waiting for a decision. */
  readonly effect?: EffectDetail;
  /** Why the policy asked for a human. */
  readonly reason: string;
  readonly createdAt: Millis;
  readonly expiresAt: Millis;
  readonly decidedBy?: string;
  readonly decidedAt?: Millis;
  readonly decisionReason?: string;
}

export type NewApproval = Omit<
  ApprovalRecord,
  "kind" | "effect" | "status" | "decidedBy" | "decidedAt" | "decisionReason"
>;

export interface NewEffectApproval {
  readonly id: string;
  readonly executionId: string;
  /** Must be the execution's owner; the store refuses otherwise. */
  readonly requestedBy: string;
  readonly effect: EffectDetail;
  readonly reason: string;
  readonly createdAt: Millis;
  readonly expiresAt: Millis;
}

export interface EffectDecision extends ApprovalDecision {
  /** Decide only while the execution is `running` (a human decision; the system may close orphans). */
  readonly requireRunning: boolean;
}

export interface ApprovalDecision {
  readonly to: Exclude<ApprovalStatus, "pending">;
  readonly by: string;
  readonly reason: string;
  readonly at: Millis;
}

export type DecideResult =
  | { readonly ok: true; readonly approval: ApprovalRecord; readonly events: AuditEvent[] }
  /** Someone else decided first, or the approval expired: `current` is what is stored now. */
  | { readonly ok: false; readonly current: ApprovalRecord | undefined };

/**
 * How one write is acknowledged. By default a write resolves once it is durable (with
 * `SANDBOX_STORE_SYNC=full`: on disk, surviving a power cut). `deferDurability` resolves as soon as
 * the commit is written (visible to every reader and surviving a crash of this process) and leaves
 * the disk flush to the next durable write or `flush()`. Use it only for a record that nobody is
 * answered about until a later durable write or flush has covered it: the pipeline's record of a run
 * about to start, made durable by the run's result or before the guest's first effect leaves.
 */
export interface WriteOptions {
  readonly deferDurability?: boolean;
}

export interface ControlStore {
  /**
   * Stores a tool definition. When it equals the current version nothing changes (`created: false`);
   * otherwise a new version (current + 1, or 1) is created atomically and becomes current.
   */
  putTool(
    tool: NewToolVersion,
    now: Millis,
  ): Promise<{ readonly record: ToolVersionRecord; readonly created: boolean }>;
  /** The current version (undefined when deleted or never registered), or a given version. */
  getTool(name: string, version?: number): Promise<ToolVersionRecord | undefined>;
  listTools(): Promise<ToolVersionRecord[]>;
  /** Marks the tool deleted; its versions stay for the records that ran them. False when absent. */
  deleteTool(name: string, now: Millis): Promise<boolean>;

  createExecution(
    execution: NewExecution,
    events?: readonly AuditEventInput[],
    options?: WriteOptions,
  ): Promise<AuditEvent[]>;
  getExecution(id: string): Promise<ExecutionRecord | undefined>;
  /**
   * Compare-and-set: applies `update` (and appends `events`) only when the status is one of `from`;
   * clears the subject. Undefined when the status did not match (nothing was written).
   */
  updateExecution(
    id: string,
    from: readonly ExecutionStatus[],
    update: ExecutionUpdate,
    now: Millis,
    events?: readonly AuditEventInput[],
  ): Promise<AuditEvent[] | undefined>;
  /** Executions left `running` (for example by a crash); used at startup. */
  listExecutions(status: ExecutionStatus): Promise<ExecutionRecord[]>;

  /** Atomically: the approval is created and the execution becomes pending_approval with its subject. */
  requestApproval(
    approval: NewApproval,
    subject: unknown,
    now: Millis,
    events?: readonly AuditEventInput[],
  ): Promise<AuditEvent[]>;
  /**
   * Records a pending `effect` approval, only while the execution is `running` and owned by
   * `requestedBy` (rejects otherwise, writing nothing). The execution does not move.
   */
  requestEffectApproval(approval: NewEffectApproval, events?: readonly AuditEventInput[]): Promise<AuditEvent[]>;
  getApproval(id: string): Promise<ApprovalRecord | undefined>;
  /** The execution's `run` approval (an execution has at most one). */
  getApprovalForExecution(executionId: string): Promise<ApprovalRecord | undefined>;
  /** Every approval of an execution, both kinds, oldest first. */
  listApprovalsForExecution(executionId: string): Promise<ApprovalRecord[]>;
  /** Both kinds, newest first. */
  listApprovals(filter: {
    readonly status?: ApprovalStatus;
    readonly kind?: ApprovalKind;
    readonly limit: number;
  }): Promise<ApprovalRecord[]>;
  /** Pending approvals (both kinds) whose expiry is at or before `now`. */
  listOverdueApprovals(now: Millis): Promise<ApprovalRecord[]>;
  /**
   * Compare-and-set of a `run` approval from `pending`, single use and race-safe: of any number of
   * concurrent calls for one approval exactly one succeeds. `approved` also requires `expiresAt > at`.
   * The execution moves with it in the same step: approved -> running, denied -> denied, expired ->
   * expired. An `effect` approval is never decided here (`ok: false`).
   */
  decideApproval(
    id: string,
    decision: ApprovalDecision,
    executionError?: RecordError,
    events?: readonly AuditEventInput[],
  ): Promise<DecideResult>;
  /**
   * Compare-and-set of an `effect` approval from `pending`, as race-safe as `decideApproval`; with
   * `requireRunning` it also requires the execution to be `running` at that moment. `approved` also
   * requires `expiresAt > at`. The execution never moves.
   */
  decideEffectApproval(
    id: string,
    decision: EffectDecision,
    events?: readonly AuditEventInput[],
  ): Promise<DecideResult>;

  /** Appends to the timelines in one commit, assigning each execution's next sequence numbers. */
  appendEvents(events: readonly AuditEventInput[], options?: WriteOptions): Promise<AuditEvent[]>;
  listEvents(executionId: string, afterSeq?: number): Promise<AuditEvent[]>;

  /**
   * Resolves once every write made so far is as durable as the store's sync setting promises (at
   * once for a store that promises nothing more than its commits); rejects with STORE_UNAVAILABLE
   * when it cannot be. Callers use it before something leaves the process that a record must
   * precede (see `WriteOptions.deferDurability`).
   */
  flush(): Promise<void>;

  close(): void;
}

/**
 * The embedded default store: one SQLite file in the data directory (better-sqlite3), WAL journal,
 * by default every write acknowledged only once on disk (group fsync of the WAL, wal-sync.ts) so an
 * acknowledged audit event survives a power cut (`normal` on request: consistent and crash-safe,
 * but the last commits can be lost to an OS crash or power loss; see
 * docs/tools-and-approvals.md#storage), and a busy timeout so a
 * second process on the same file waits instead of failing. Calls are synchronous underneath, which
 * makes each method atomic within this process; the conditional UPDATEs make them atomic across
 * processes too. Any SQLite failure becomes STORE_UNAVAILABLE (fail closed), logged here once.
 */
import { chmodSync, closeSync, constants, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3, { type Database, type Statement } from "better-sqlite3";
import { type AuditEvent, type AuditEventInput, buildEvent } from "../../audit/event.js";
import { isServiceError, ServiceError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { canonicalJson } from "../../tools/digest.js";
import type {
  ApprovalDecision,
  ApprovalKind,
  ApprovalStatus,
  ControlStore,
  DecideResult,
  EffectDecision,
  ExecutionStatus,
  ExecutionUpdate,
  Millis,
  NewApproval,
  NewEffectApproval,
  NewExecution,
  NewToolVersion,
  RecordError,
  ToolVersionRecord,
  WriteOptions,
} from "../store.js";
import { decideEffect, insertEffectApproval } from "./effect-approvals.js";
import { migrate } from "./migrations.js";
import { type ApprovalRow, type ExecutionRow, type ToolRow, toApproval, toExecution, toTool } from "./rows.js";
import { type FileSync, WalSync } from "./wal-sync.js";

export interface SqliteStoreOptions {
  /** A file path, or ":memory:" for tests. */
  readonly path: string;
  readonly logger: Logger;
  readonly busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` in WAL mode: `full` (default) fsyncs the WAL at every commit; `normal` only
   * at checkpoints. Each commit is atomic either way.
   */
  readonly synchronous?: StoreSync;
  /** How the WAL is fsynced under `full` (tests inject a recorder); default fsync(2). */
  readonly syncFile?: FileSync;
}

export type StoreSync = "full" | "normal";

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export class SqliteStore implements ControlStore {
  /** Prepared once per SQL text: preparing on every call cost ~1.5 ms per execution on the request path. */
  private readonly statements = new Map<string, Statement>();
  /**
   * Runs its argument inside one IMMEDIATE transaction (the write lock taken at BEGIN, so a second
   * process waits out busy_timeout at the start instead of failing at its first write). Built once:
   * `db.transaction(fn)` per call cost ~6.5 µs of closures each time, twice per execution.
   */
  private readonly immediate: (fn: () => unknown) => unknown;

  private constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** Present under `full` for a file: the group fsync every write waits for (see wal-sync.ts). */
    private readonly wal: WalSync | undefined,
  ) {
    this.immediate = db.transaction((fn: () => unknown) => fn()).immediate;
  }

  private prepare(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Opens (creating the directory with mode 0700 and the file with 0600; SQLite gives its -wal and
   * -shm files the same mode) and migrates. Throws when it cannot.
   */
  static open(options: SqliteStoreOptions): SqliteStore {
    const file = options.path !== ":memory:";
    if (file) privateFile(options.path);
    const db = new BetterSqlite3(options.path);
    try {
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      if (options.path !== ":memory:") db.pragma("journal_mode = WAL");
      // Under `full` a file commits with NORMAL and each write then waits for the group fsync of the
      // WAL (wal-sync.ts): as durable as FULL when acknowledged, without an fsync inside every COMMIT
      // on the event loop.
      db.pragma(`synchronous = ${options.synchronous === "normal" || file ? "NORMAL" : "FULL"}`);
      db.pragma("foreign_keys = ON");
      // Cleared subjects (pending inputs) are overwritten on disk, not left in free pages.
      db.pragma("secure_delete = ON");
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }
    const groupSync = file && options.synchronous !== "normal";
    return new SqliteStore(
      db,
      options.logger,
      groupSync ? new WalSync(`${options.path}-wal`, options.syncFile) : undefined,
    );
  }

  private guard<T>(operation: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      if (isServiceError(error)) return Promise.reject(error);
      this.logger.error({ err: error, operation }, "store operation failed");
      return Promise.reject(new ServiceError("STORE_UNAVAILABLE"));
    }
  }

  /**
   * A write: `fn` runs inside one IMMEDIATE transaction, committed at once, acknowledged once
   * durable (unless deferred; see WriteOptions). After a failed fsync nothing more is written: the
   * state on disk is unknown (fail closed).
   */
  private async write<T>(operation: string, fn: () => T, options: WriteOptions = {}): Promise<T> {
    if (this.wal?.failed) throw new ServiceError("STORE_UNAVAILABLE");
    const value = await this.guard(operation, () => this.immediate(fn) as T);
    if (!options.deferDurability) await this.durable(operation);
    return value;
  }

  /** Every commit so far on disk (nothing to wait for without the group fsync). */
  private async durable(operation: string): Promise<void> {
    if (!this.wal) return;
    const poisoned = this.wal.failed !== undefined;
    try {
      await this.wal.sync();
    } catch (error) {
      if (!poisoned) {
        this.logger.error(
          { err: error, operation },
          "could not fsync the store's WAL: every write now answers STORE_UNAVAILABLE until a restart",
        );
      }
      throw new ServiceError("STORE_UNAVAILABLE");
    }
  }

  putTool(tool: NewToolVersion, now: Millis) {
    return this.write("putTool", () => {
      const current = this.currentTool(tool.name);
      if (current && sameDefinition(current, tool)) return { record: current, created: false };
      const head = this.prepare("SELECT current_version FROM tools WHERE name = ?").get(tool.name) as
        | { current_version: number }
        | undefined;
      const version = (head?.current_version ?? 0) + 1;
      const definition = JSON.stringify({
        description: tool.description,
        inputSchema: tool.inputSchema,
        policy: tool.policy,
        mocks: tool.mocks,
      });
      this.prepare(
        `INSERT INTO tool_versions (name, version, language, code, code_hash, definition, created_at, created_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(tool.name, version, tool.language, tool.code, tool.codeHash, definition, now, tool.createdBy);
      this.prepare(
        `INSERT INTO tools (name, current_version, deleted_at) VALUES (?, ?, NULL)
           ON CONFLICT (name) DO UPDATE SET current_version = excluded.current_version, deleted_at = NULL`,
      ).run(tool.name, version);
      const record = this.versionRow(tool.name, version);
      if (!record) throw new Error("tool version vanished inside its transaction");
      return { record, created: true };
    });
  }

  getTool(name: string, version?: number) {
    return this.guard("getTool", () =>
      version === undefined ? this.currentTool(name) : this.versionRow(name, version),
    );
  }

  listTools() {
    return this.guard("listTools", () =>
      (
        this.prepare(
          `SELECT v.* FROM tools t JOIN tool_versions v ON v.name = t.name AND v.version = t.current_version
             WHERE t.deleted_at IS NULL ORDER BY t.name`,
        ).all() as ToolRow[]
      ).map(toTool),
    );
  }

  deleteTool(name: string, now: Millis) {
    return this.write(
      "deleteTool",
      () =>
        this.prepare("UPDATE tools SET deleted_at = ? WHERE name = ? AND deleted_at IS NULL").run(now, name).changes ===
        1,
    );
  }

  private currentTool(name: string): ToolVersionRecord | undefined {
    const row = this.prepare(
      `SELECT v.* FROM tools t JOIN tool_versions v ON v.name = t.name AND v.version = t.current_version
         WHERE t.name = ? AND t.deleted_at IS NULL`,
    ).get(name) as ToolRow | undefined;
    return row ? toTool(row) : undefined;
  }

  private versionRow(name: string, version: number): ToolVersionRecord | undefined {
    const row = this.prepare("SELECT * FROM tool_versions WHERE name = ? AND version = ?").get(name, version) as
      | ToolRow
      | undefined;
    return row ? toTool(row) : undefined;
  }

  createExecution(e: NewExecution, events: readonly AuditEventInput[] = [], options?: WriteOptions) {
    return this.write(
      "createExecution",
      () => {
        this.prepare(
          `INSERT INTO executions (id, owner, status, kind, tool_name, tool_version, dry_run, request_id, created_at,
             updated_at, error)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          e.id,
          e.owner,
          e.status,
          e.kind,
          e.toolName ?? null,
          e.toolVersion ?? null,
          e.dryRun ? 1 : 0,
          e.requestId,
          e.createdAt,
          e.createdAt,
          json(e.error),
        );
        return this.insertEvents(events);
      },
      options,
    );
  }

  getExecution(id: string) {
    return this.guard("getExecution", () => {
      const row = this.prepare("SELECT * FROM executions WHERE id = ?").get(id) as ExecutionRow | undefined;
      return row ? toExecution(row) : undefined;
    });
  }

  updateExecution(
    id: string,
    from: readonly ExecutionStatus[],
    update: ExecutionUpdate,
    now: Millis,
    events: readonly AuditEventInput[] = [],
  ) {
    return this.write("updateExecution", () =>
      this.moveExecution(id, from, update, now) ? this.insertEvents(events) : undefined,
    );
  }

  private moveExecution(id: string, from: readonly ExecutionStatus[], update: ExecutionUpdate, now: Millis): boolean {
    const placeholders = from.map(() => "?").join(", ");
    return (
      this.prepare(
        `UPDATE executions SET status = ?, result = ?, error = ?, subject = NULL, updated_at = ?
           WHERE id = ? AND status IN (${placeholders})`,
      ).run(update.status, json(update.result), json(update.error), now, id, ...from).changes === 1
    );
  }

  listExecutions(status: ExecutionStatus) {
    return this.guard("listExecutions", () =>
      (this.prepare("SELECT * FROM executions WHERE status = ?").all(status) as ExecutionRow[]).map(toExecution),
    );
  }

  requestApproval(a: NewApproval, subject: unknown, now: Millis, events: readonly AuditEventInput[] = []) {
    return this.write("requestApproval", () => {
      this.prepare(
        `INSERT INTO approvals (id, execution_id, status, requested_by, tool_name, tool_version, code_hash,
             input_hash, reason, created_at, expires_at)
           VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        a.id,
        a.executionId,
        a.requestedBy,
        a.toolName ?? null,
        a.toolVersion ?? null,
        a.codeHash,
        a.inputHash,
        a.reason,
        a.createdAt,
        a.expiresAt,
      );
      const moved = this.prepare(
        `UPDATE executions SET status = 'pending_approval', subject = ?, updated_at = ?
           WHERE id = ? AND status = 'running'`,
      ).run(JSON.stringify(subject), now, a.executionId).changes;
      if (moved !== 1) throw new Error(`execution ${a.executionId} is not running; cannot ask for approval`);
      return this.insertEvents(events);
    });
  }

  requestEffectApproval(a: NewEffectApproval, events: readonly AuditEventInput[] = []) {
    return this.write("requestEffectApproval", () => {
      insertEffectApproval((sql) => this.prepare(sql), a);
      return this.insertEvents(events);
    });
  }

  getApproval(id: string) {
    return this.guard("getApproval", () => {
      const row = this.prepare("SELECT * FROM approvals WHERE id = ?").get(id) as ApprovalRow | undefined;
      return row ? toApproval(row) : undefined;
    });
  }

  getApprovalForExecution(executionId: string) {
    return this.guard("getApprovalForExecution", () => {
      const row = this.prepare("SELECT * FROM approvals WHERE execution_id = ? AND kind = 'run'").get(executionId) as
        | ApprovalRow
        | undefined;
      return row ? toApproval(row) : undefined;
    });
  }

  listApprovalsForExecution(executionId: string) {
    return this.guard("listApprovalsForExecution", () =>
      (
        this.prepare("SELECT * FROM approvals WHERE execution_id = ? ORDER BY created_at, id").all(
          executionId,
        ) as ApprovalRow[]
      ).map(toApproval),
    );
  }

  listApprovals(filter: { readonly status?: ApprovalStatus; readonly kind?: ApprovalKind; readonly limit: number }) {
    return this.guard("listApprovals", () => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.status !== undefined) {
        where.push("status = ?");
        params.push(filter.status);
      }
      if (filter.kind !== undefined) {
        where.push("kind = ?");
        params.push(filter.kind);
      }
      const clause = where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "";
      const rows = this.prepare(`SELECT * FROM approvals${clause} ORDER BY created_at DESC, id LIMIT ?`).all(
        ...params,
        filter.limit,
      );
      return (rows as ApprovalRow[]).map(toApproval);
    });
  }

  listOverdueApprovals(now: Millis) {
    return this.guard("listOverdueApprovals", () =>
      (
        this.prepare("SELECT * FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at").all(
          now,
        ) as ApprovalRow[]
      ).map(toApproval),
    );
  }

  decideApproval(
    id: string,
    decision: ApprovalDecision,
    executionError?: RecordError,
    events: readonly AuditEventInput[] = [],
  ) {
    return this.write("decideApproval", (): DecideResult => {
      const expiryGuard = decision.to === "approved" ? " AND expires_at > ?" : "";
      const params: unknown[] = [decision.to, decision.by, decision.at, decision.reason, id];
      if (decision.to === "approved") params.push(decision.at);
      const changed = this.prepare(
        `UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ?
           WHERE id = ? AND kind = 'run' AND status = 'pending'${expiryGuard}`,
      ).run(...params).changes;
      const row = this.prepare("SELECT * FROM approvals WHERE id = ?").get(id) as ApprovalRow | undefined;
      const current = row ? toApproval(row) : undefined;
      if (changed !== 1 || !current) return { ok: false, current };
      if (decision.to === "approved") {
        // Keep the subject: the approved run reads it once, then the final update clears it.
        this.prepare(
          "UPDATE executions SET status = 'running', updated_at = ? WHERE id = ? AND status = 'pending_approval'",
        ).run(decision.at, current.executionId);
      } else {
        const next: ExecutionUpdate = { status: decision.to, ...(executionError ? { error: executionError } : {}) };
        this.moveExecution(current.executionId, ["pending_approval"], next, decision.at);
      }
      return { ok: true, approval: current, events: this.insertEvents(events) };
    });
  }

  decideEffectApproval(id: string, decision: EffectDecision, events: readonly AuditEventInput[] = []) {
    return this.write("decideEffectApproval", (): DecideResult => {
      const decided = decideEffect((sql) => this.prepare(sql), id, decision);
      return decided.ok ? { ...decided, events: this.insertEvents(events) } : decided;
    });
  }

  appendEvents(events: readonly AuditEventInput[], options?: WriteOptions) {
    return this.write("appendEvents", () => this.insertEvents(events), options);
  }

  flush(): Promise<void> {
    return this.durable("flush");
  }

  /**
   * Inside a transaction: numbers each event after the last of its execution and stores it. The last
   * number is read once per execution (the transaction holds the write lock, so nobody else appends
   * meanwhile), not once per event.
   */
  private insertEvents(inputs: readonly AuditEventInput[]): AuditEvent[] {
    const last = this.prepare("SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_events WHERE execution_id = ?");
    const insert = this.prepare(
      "INSERT INTO audit_events (execution_id, seq, type, time, event) VALUES (?, ?, ?, ?, ?)",
    );
    const lastSeq = new Map<string, number>();
    return inputs.map((input) => {
      const seq = (lastSeq.get(input.executionId) ?? (last.get(input.executionId) as { seq: number }).seq) + 1;
      lastSeq.set(input.executionId, seq);
      const event = buildEvent(input, seq);
      insert.run(input.executionId, event.seq, input.type, input.time, JSON.stringify(event));
      return event;
    });
  }

  listEvents(executionId: string, afterSeq = 0) {
    return this.guard("listEvents", () =>
      (
        this.prepare("SELECT event FROM audit_events WHERE execution_id = ? AND seq > ? ORDER BY seq").all(
          executionId,
          afterSeq,
        ) as Array<{ event: string }>
      ).map((row) => JSON.parse(row.event) as AuditEvent),
    );
  }

  /**
   * What SQLite reports it is doing (read back, not the options asked for), and what a write waits
   * for before it is acknowledged: `fsync` (SQLite's own, at each commit), `group-fsync` (ours, of the
   * WAL, shared by concurrent writes) or `write` (no fsync): logged at open.
   */
  durability(): { journalMode: string; synchronous: StoreSync | "off" | "extra"; acknowledged: string } {
    const journalMode = String(this.db.pragma("journal_mode", { simple: true }));
    const level = Number(this.db.pragma("synchronous", { simple: true }));
    const synchronous = level === 0 ? "off" : level === 1 ? "normal" : level === 2 ? "full" : "extra";
    const acknowledged = this.wal ? "group-fsync" : level >= 2 ? "fsync" : "write";
    return { journalMode, synchronous, acknowledged };
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.wal?.close();
  }
}

/** Creates `path` empty with mode 0600 (an empty file is an empty database), or tightens an existing one. */
function privateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
}

function sameDefinition(current: ToolVersionRecord, next: NewToolVersion): boolean {
  const fields = (t: NewToolVersion) =>
    canonicalJson({
      language: t.language,
      code: t.code,
      description: t.description,
      inputSchema: t.inputSchema,
      policy: t.policy,
      mocks: t.mocks,
    });
  return fields(current) === fields(next);
}

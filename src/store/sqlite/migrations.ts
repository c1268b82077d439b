/**
 * Schema migrations for the SQLite store, applied in order inside one IMMEDIATE transaction at open.
 * The schema version lives in `PRAGMA user_version`. Migrations are append-only: never edit a
 * released one, add the next. A database newer than this code is refused (fail closed).
 */
import type { Database } from "better-sqlite3";

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE tools (
        name TEXT PRIMARY KEY,
        current_version INTEGER NOT NULL,
        deleted_at INTEGER
      );
      CREATE TABLE tool_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        language TEXT NOT NULL,
        code TEXT NOT NULL,
        code_hash TEXT NOT NULL,
        definition TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (name, version)
      );
      CREATE TABLE executions (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        status TEXT NOT NULL,
        kind TEXT NOT NULL,
        tool_name TEXT,
        tool_version INTEGER,
        dry_run INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        subject TEXT,
        result TEXT,
        error TEXT
      );
      CREATE INDEX executions_status ON executions (status);
      CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL UNIQUE REFERENCES executions (id),
        status TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        tool_name TEXT,
        tool_version INTEGER,
        code_hash TEXT NOT NULL,
        input_hash TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        decided_by TEXT,
        decided_at INTEGER,
        decision_reason TEXT
      );
      CREATE INDEX approvals_status_expiry ON approvals (status, expires_at);
      CREATE TABLE audit_events (
        execution_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        time INTEGER NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (execution_id, seq)
      );
    `,
  },
  {
    // Effect approvals (issue 8): an execution may now have many approvals (one `run` approval at
    // most, any number of `effect` ones), so the UNIQUE on execution_id becomes a partial index.
    // SQLite cannot drop a constraint: the table is rebuilt and its rows copied as `run` approvals.
    version: 2,
    sql: `
      CREATE TABLE approvals_v2 (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL REFERENCES executions (id),
        kind TEXT NOT NULL DEFAULT 'run' CHECK (kind IN ('run', 'effect')),
        status TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        tool_name TEXT,
        tool_version INTEGER,
        code_hash TEXT NOT NULL,
        input_hash TEXT NOT NULL,
        effect TEXT,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        decided_by TEXT,
        decided_at INTEGER,
        decision_reason TEXT
      );
      INSERT INTO approvals_v2 (id, execution_id, kind, status, requested_by, tool_name, tool_version, code_hash,
          input_hash, effect, reason, created_at, expires_at, decided_by, decided_at, decision_reason)
        SELECT id, execution_id, 'run', status, requested_by, tool_name, tool_version, code_hash, input_hash, NULL,
            reason, created_at, expires_at, decided_by, decided_at, decision_reason
          FROM approvals;
      DROP TABLE approvals;
      ALTER TABLE approvals_v2 RENAME TO approvals;
      CREATE UNIQUE INDEX approvals_run_per_execution ON approvals (execution_id) WHERE kind = 'run';
      CREATE INDEX approvals_execution ON approvals (execution_id, created_at);
      CREATE INDEX approvals_status_expiry ON approvals (status, expires_at);
      CREATE INDEX approvals_created ON approvals (created_at);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

export class SchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(`the store's schema version ${found} is newer than this server's ${known}; refusing to use it`);
    this.name = "SchemaTooNewError";
  }
}

/** Brings the database to SCHEMA_VERSION. Returns the versions applied. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const latest = migrations.at(-1)?.version ?? 0;
  const applied: number[] = [];
  db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current > latest) throw new SchemaTooNewError(current, latest);
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
      applied.push(migration.version);
    }
  }).immediate();
  return applied;
}

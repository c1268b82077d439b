import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../logger.js";
import type { EffectDetail, NewEffectApproval } from "../store.js";
import { MIGRATIONS, migrate } from "./migrations.js";
import { SqliteStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "effect-store-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const open = (path = ":memory:") => SqliteStore.open({ path, logger: silentLogger() });

const EFFECT: EffectDetail = { kind: "egress", method: "DELETE", url: "https://api.example.com/items/7", hop: 1 };
const effectApproval = (id: string, extra: Partial<NewEffectApproval> = {}): NewEffectApproval => ({
  id,
  executionId: "exec_1",
  requestedBy: "agent",
  effect: EFFECT,
  reason: "on-effect",
  createdAt: 1000,
  expiresAt: 5000,
  ...extra,
});

async function running(store: SqliteStore, id = "exec_1") {
  await store.createExecution({
    id,
    owner: "agent",
    status: "running",
    kind: "tool",
    toolName: "cleanup",
    toolVersion: 2,
    dryRun: false,
    requestId: "req_1",
    createdAt: 1000,
  });
}

describe("migration 2 (effect approvals)", () => {
  it("keeps version-1 approvals as run approvals and allows many approvals per execution", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db, MIGRATIONS.slice(0, 1));
    db.exec(`INSERT INTO executions (id, owner, status, kind, dry_run, request_id, created_at, updated_at)
               VALUES ('exec_old', 'agent', 'pending_approval', 'adhoc', 0, 'req', 1, 1)`);
    db.exec(`INSERT INTO approvals (id, execution_id, status, requested_by, code_hash, input_hash, reason, created_at,
               expires_at) VALUES ('apr_old', 'exec_old', 'pending', 'agent', 'c', 'i', 'always', 1, 99)`);
    expect(migrate(db)).toEqual([2]);
    expect(db.prepare("SELECT kind, code_hash, effect FROM approvals WHERE id = 'apr_old'").get()).toEqual({
      kind: "run",
      code_hash: "c",
      effect: null,
    });
    const insert = db.prepare(
      `INSERT INTO approvals (id, execution_id, kind, status, requested_by, code_hash, input_hash, reason, created_at,
         expires_at) VALUES (?, 'exec_old', ?, 'pending', 'agent', '', '', 'r', 2, 99)`,
    );
    insert.run("apr_e1", "effect");
    insert.run("apr_e2", "effect");
    // Still at most one run approval per execution, and no unknown kinds.
    expect(() => insert.run("apr_r2", "run")).toThrow(/UNIQUE/);
    expect(() => insert.run("apr_x", "other")).toThrow(/CHECK/);
    db.close();
  });
});

describe("effect approvals in the store", () => {
  it("records many per running execution, beside its run approval, without moving the execution", async () => {
    const store = open();
    await running(store);
    await store.requestEffectApproval(effectApproval("apr_e1"));
    await store.requestEffectApproval(effectApproval("apr_e2", { createdAt: 1001 }));
    expect(await store.getApproval("apr_e1")).toMatchObject({
      kind: "effect",
      status: "pending",
      effect: EFFECT,
      toolName: "cleanup",
      toolVersion: 2,
      codeHash: "",
    });
    expect((await store.listApprovalsForExecution("exec_1")).map((a) => a.id)).toEqual(["apr_e1", "apr_e2"]);
    expect(await store.getApprovalForExecution("exec_1")).toBeUndefined();
    expect((await store.listApprovals({ kind: "effect", limit: 10 })).map((a) => a.id)).toEqual(["apr_e2", "apr_e1"]);
    expect(await store.listApprovals({ kind: "run", limit: 10 })).toEqual([]);
    expect((await store.getExecution("exec_1"))?.status).toBe("running");
    store.close();
  });

  it("refuses to record for an execution that is not running or another owner, writing nothing", async () => {
    const store = open();
    await running(store);
    await expect(store.requestEffectApproval(effectApproval("apr_x", { requestedBy: "eve" }))).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await store.updateExecution("exec_1", ["running"], { status: "completed" }, 2000);
    await expect(store.requestEffectApproval(effectApproval("apr_y"))).rejects.toMatchObject({
      code: "APPROVAL_NOT_PENDING",
    });
    expect(await store.listApprovals({ limit: 10 })).toEqual([]);
    store.close();
  });

  it("is never decided by the run path, and the effect path never moves the execution", async () => {
    const store = open();
    await running(store);
    await store.requestEffectApproval(effectApproval("apr_e"));
    const viaRun = await store.decideApproval("apr_e", { to: "denied", by: "x", reason: "r", at: 2000 });
    expect(viaRun).toMatchObject({ ok: false, current: { status: "pending" } });
    const decided = await store.decideEffectApproval("apr_e", {
      to: "denied",
      by: "x",
      reason: "r",
      at: 2000,
      requireRunning: true,
    });
    expect(decided).toMatchObject({ ok: true, approval: { status: "denied", decidedBy: "x" } });
    expect(await store.getExecution("exec_1")).toMatchObject({ status: "running", updatedAt: 1000 });
    store.close();
  });

  it("lets exactly one of 20 concurrent decisions win, across two connections", async () => {
    const path = join(dir, "effect-race.db");
    const a = open(path);
    const b = open(path);
    await running(a);
    await a.requestEffectApproval(effectApproval("apr_race"));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).decideEffectApproval("apr_race", {
          to: i % 3 === 0 ? "denied" : "approved",
          by: `approver${i}`,
          reason: "r",
          at: 2000,
          requireRunning: true,
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect((await b.getExecution("exec_1"))?.status).toBe("running");
    a.close();
    b.close();
  });

  it("needs a running execution for a human decision and time left for an approval", async () => {
    const store = open();
    await running(store);
    await store.requestEffectApproval(effectApproval("apr_e"));
    const human = { by: "x", reason: "r", at: 2000, requireRunning: true } as const;
    expect((await store.decideEffectApproval("apr_e", { ...human, to: "approved", at: 5000 })).ok).toBe(false);
    await store.updateExecution("exec_1", ["running"], { status: "completed" }, 2000);
    expect((await store.decideEffectApproval("apr_e", { ...human, to: "approved" })).ok).toBe(false);
    expect((await store.decideEffectApproval("apr_e", { ...human, to: "denied" })).ok).toBe(false);
    const closed = await store.decideEffectApproval("apr_e", {
      to: "expired",
      by: "system",
      reason: "ended",
      at: 2000,
      requireRunning: false,
    });
    expect(closed).toMatchObject({ ok: true, approval: { status: "expired" } });
    store.close();
  });
});

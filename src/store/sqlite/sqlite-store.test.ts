import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../logger.js";
import type { NewToolVersion } from "../store.js";
import { MIGRATIONS, migrate, SCHEMA_VERSION } from "./migrations.js";
import { SqliteStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "store-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const open = (path = ":memory:") => SqliteStore.open({ path, logger: silentLogger() });

const tool = (code: string, extra: Partial<NewToolVersion> = {}): NewToolVersion => ({
  name: "greet",
  language: "javascript",
  code,
  codeHash: `hash-${code}`,
  description: "says hello",
  policy: { v: 1, approval: "never" },
  createdBy: "admin",
  ...extra,
});

async function pendingApproval(store: SqliteStore, id: string, expiresAt: number) {
  await store.createExecution({
    id: `exec_${id}`,
    owner: "agent",
    status: "running",
    kind: "adhoc",
    dryRun: false,
    requestId: "req_1",
    createdAt: 1000,
  });
  await store.requestApproval(
    {
      id: `apr_${id}`,
      executionId: `exec_${id}`,
      requestedBy: "agent",
      codeHash: "c",
      inputHash: "i",
      reason: "always",
      createdAt: 1000,
      expiresAt,
    },
    { kind: "adhoc", body: { code: "1" } },
    1000,
  );
}

describe("migrations", () => {
  it("brings a fresh database to the latest version once", () => {
    const db = new BetterSqlite3(":memory:");
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(migrate(db)).toEqual([]);
    db.close();
  });

  it("applies only the migrations after the stored version, in one transaction", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db);
    const next = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, sql: "CREATE TABLE extra (x INTEGER);" }];
    expect(migrate(db, next)).toEqual([SCHEMA_VERSION + 1]);
    const broken = [...next, { version: SCHEMA_VERSION + 2, sql: "CREATE TABLE ok (x); NOT SQL;" }];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'ok'").get()).toBeUndefined();
    db.close();
  });

  it("refuses a database newer than this code", () => {
    const path = join(dir, "newer.db");
    const db = new BetterSqlite3(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    expect(() => open(path)).toThrow(/newer than this server/);
  });
});

describe("tools", () => {
  it("versions changes, keeps identical definitions, and survives delete and re-register", async () => {
    const store = open();
    const first = await store.putTool(tool("v1"), 10);
    expect(first).toMatchObject({ created: true, record: { version: 1, code: "v1", createdAt: 10 } });
    expect((await store.putTool(tool("v1"), 20)).created).toBe(false);
    const second = await store.putTool(tool("v2"), 30);
    expect(second.record.version).toBe(2);
    expect((await store.putTool(tool("v2", { description: "changed" }), 40)).record.version).toBe(3);
    expect((await store.getTool("greet"))?.version).toBe(3);
    expect((await store.getTool("greet", 1))?.code).toBe("v1");

    expect(await store.deleteTool("greet", 50)).toBe(true);
    expect(await store.deleteTool("greet", 51)).toBe(false);
    expect(await store.getTool("greet")).toBeUndefined();
    expect(await store.listTools()).toEqual([]);
    expect((await store.getTool("greet", 2))?.code).toBe("v2");
    expect((await store.putTool(tool("v2", { description: "changed" }), 60)).record.version).toBe(4);
    expect((await store.listTools()).map((t) => [t.name, t.version])).toEqual([["greet", 4]]);
    store.close();
  });

  it("treats key order in JSON fields as the same definition", async () => {
    const store = open();
    await store.putTool(tool("x", { policy: { a: 1, b: 2 } }), 1);
    expect((await store.putTool(tool("x", { policy: { b: 2, a: 1 } }), 2)).created).toBe(false);
    store.close();
  });
});

describe("approvals", () => {
  it("lets exactly one of many concurrent decisions win, across two connections", async () => {
    const path = join(dir, "race.db");
    const a = open(path);
    const b = open(path);
    await pendingApproval(a, "race", 10_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? a : b).decideApproval("apr_race", {
          to: "approved",
          by: `approver${i}`,
          reason: "ok",
          at: 2000,
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect((await b.getExecution("exec_race"))?.status).toBe("running");
    expect((await a.getApproval("apr_race"))?.status).toBe("approved");
    a.close();
    b.close();
  });

  it("never approves at or after expiry, and moves the execution with the approval", async () => {
    const store = open();
    await pendingApproval(store, "late", 5000);
    expect((await store.decideApproval("apr_late", { to: "approved", by: "x", reason: "r", at: 5000 })).ok).toBe(false);
    expect((await store.listOverdueApprovals(5000)).map((a) => a.id)).toEqual(["apr_late"]);
    const expired = await store.decideApproval(
      "apr_late",
      { to: "expired", by: "system", reason: "expired", at: 5000 },
      { code: "APPROVAL_EXPIRED", message: "expired" },
    );
    expect(expired.ok).toBe(true);
    const execution = await store.getExecution("exec_late");
    expect(execution).toMatchObject({ status: "expired", error: { code: "APPROVAL_EXPIRED" } });
    expect(execution?.subject).toBeUndefined();
    expect((await store.getApprovalForExecution("exec_late"))?.status).toBe("expired");
    store.close();
  });

  it("lists by status, newest first", async () => {
    const store = open();
    await pendingApproval(store, "one", 9000);
    await pendingApproval(store, "two", 9000);
    await store.decideApproval("apr_one", { to: "denied", by: "x", reason: "no", at: 1500 });
    expect((await store.listApprovals({ status: "pending", limit: 10 })).map((a) => a.id)).toEqual(["apr_two"]);
    expect((await store.listApprovals({ limit: 10 })).map((a) => a.id).sort()).toEqual(["apr_one", "apr_two"]);
    store.close();
  });
});

describe("files", () => {
  it("creates the database readable by its owner only, and tightens an existing one", async () => {
    const fresh = join(dir, "private", "fresh.db");
    const store = open(fresh);
    await store.appendEvents([{ id: "e", executionId: "x", requestId: "r", type: "received", time: 1, fields: {} }]);
    for (const suffix of ["", "-wal"]) expect(statSync(`${fresh}${suffix}`).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "private")).mode & 0o777).toBe(0o700);
    store.close();
    const loose = join(dir, "loose.db");
    writeFileSync(loose, "", { mode: 0o644 });
    chmodSync(loose, 0o644);
    open(loose).close();
    expect(statSync(loose).mode & 0o777).toBe(0o600);
  });
});

describe("durability", () => {
  it("acknowledges writes after a group fsync of the WAL under full, and commits across a reopen either way", async () => {
    const full = join(dir, "sync-full.db");
    const store = open(full);
    expect(store.durability()).toEqual({ journalMode: "wal", synchronous: "normal", acknowledged: "group-fsync" });
    await store.appendEvents([event("x", "e1")]);
    store.close();
    const path = join(dir, "sync-normal.db");
    const normal = SqliteStore.open({ path, logger: silentLogger(), synchronous: "normal" });
    expect(normal.durability()).toEqual({ journalMode: "wal", synchronous: "normal", acknowledged: "write" });
    await normal.appendEvents([event("x", "e")]);
    normal.close();
    for (const file of [full, path]) {
      const reopened = open(file);
      expect((await reopened.listEvents("x")).map((e) => e.seq)).toEqual([1]);
      reopened.close();
    }
    expect(open().durability().acknowledged).toBe("fsync");
  });

  it("answers a write only once its fsync is done, unless the write defers durability", async () => {
    const syncs = manualSync();
    const path = join(dir, "group.db");
    const store = SqliteStore.open({ path, logger: silentLogger(), syncFile: syncs.syncFile });
    const order: string[] = [];
    const durable = store.appendEvents([event("g", "e1")]).then(() => order.push("durable"));
    const deferred = store
      .appendEvents([event("g", "e2")], { deferDurability: true })
      .then(() => order.push("deferred"));
    await deferred;
    expect(order).toEqual(["deferred"]);
    // Committed already: every reader sees both events before the disk has them.
    expect((await store.listEvents("g")).map((e) => e.seq)).toEqual([1, 2]);
    await syncs.started(1);
    expect(syncs.paths).toEqual([`${path}-wal`]);
    syncs.finish(0);
    await durable;
    expect(order).toEqual(["deferred", "durable"]);
    // flush() covers the deferred write with a round of its own.
    const flushed = store.flush();
    await syncs.started(2);
    syncs.finish(1);
    await flushed;
    expect(syncs.paths).toHaveLength(2);
    store.close();
  });

  it("refuses every write after a failed fsync (STORE_UNAVAILABLE), without writing it", async () => {
    const syncs = manualSync();
    const store = SqliteStore.open({ path: join(dir, "eio.db"), logger: silentLogger(), syncFile: syncs.syncFile });
    const first = store.appendEvents([event("f", "e1")]);
    await syncs.started(1);
    syncs.fail(0, new Error("EIO"));
    await expect(first).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await expect(store.appendEvents([event("f", "e2")])).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await expect(store.flush()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect((await store.listEvents("f")).map((e) => e.id)).toEqual(["e1"]);
    expect(syncs.paths).toHaveLength(1);
    store.close();
  });
});

function event(executionId: string, id: string) {
  return { id, executionId, requestId: "r", type: "received" as const, time: 1, fields: {} };
}

/** A file sync the test finishes by hand, recording the paths it was asked to sync. */
function manualSync() {
  const paths: string[] = [];
  const rounds: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  return {
    paths,
    syncFile: (path: string) =>
      new Promise<void>((resolve, reject) => {
        paths.push(path);
        rounds.push({ resolve, reject });
      }),
    finish: (i: number) => rounds[i]?.resolve(),
    fail: (i: number, error: Error) => rounds[i]?.reject(error),
    /** Lets turns of the event loop pass until `count` rounds have started (a round waits for one). */
    started: async (count: number) => {
      for (let i = 0; i < 20 && paths.length < count; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(paths).toHaveLength(count);
    },
  };
}

describe("executions and events", () => {
  it("updates only from the expected status", async () => {
    const store = open();
    await store.createExecution({
      id: "exec_a",
      owner: "o",
      status: "running",
      kind: "adhoc",
      dryRun: false,
      requestId: "r",
      createdAt: 1,
    });
    const event = {
      id: "evt_c",
      executionId: "exec_a",
      requestId: "r",
      type: "completed" as const,
      time: 3,
      fields: {},
    };
    expect(
      await store.updateExecution("exec_a", ["pending_approval"], { status: "completed" }, 2, [event]),
    ).toBeUndefined();
    expect(await store.listEvents("exec_a")).toEqual([]);
    const written = await store.updateExecution("exec_a", ["running"], { status: "completed", result: { ok: 1 } }, 3, [
      event,
    ]);
    expect(written?.map((e) => [e.seq, e.type])).toEqual([[1, "completed"]]);
    expect(await store.getExecution("exec_a")).toMatchObject({ status: "completed", result: { ok: 1 }, updatedAt: 3 });
    store.close();
  });

  it("numbers events per execution and reads them back in order, after a reopen", async () => {
    const path = join(dir, "events.db");
    const store = open(path);
    for (const [i, type] of (["received", "policy_decision", "completed"] as const).entries()) {
      const [event] = await store.appendEvents([
        {
          id: `evt_${i}`,
          executionId: "exec_e",
          requestId: "req",
          type,
          time: 1_700_000_000_000 + i,
          fields: { n: i, v: 99, seq: 42 },
        },
      ]);
      expect(event).toMatchObject({ v: 1, seq: i + 1, type, n: i });
    }
    await store.appendEvents([
      { id: "evt_other", executionId: "exec_other", requestId: "r", type: "received", time: 1, fields: {} },
    ]);
    store.close();
    const reopened = open(path);
    const events = await reopened.listEvents("exec_e");
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, "received"],
      [2, "policy_decision"],
      [3, "completed"],
    ]);
    expect(events[0]).toMatchObject({ v: 1, id: "evt_0", time: "2023-11-14T22:13:20.000Z", requestId: "req" });
    expect((await reopened.listEvents("exec_e", 2)).map((e) => e.seq)).toEqual([3]);
    // One batch over two executions, interleaved: each numbered after its own last event.
    const batch = await reopened.appendEvents([
      event("exec_e", "b1"),
      event("exec_other", "b2"),
      event("exec_e", "b3"),
    ]);
    expect(batch.map((e) => [e.executionId, e.seq])).toEqual([
      ["exec_e", 4],
      ["exec_other", 2],
      ["exec_e", 5],
    ]);
    expect((await reopened.listEvents("exec_e")).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    reopened.close();
  });

  it("answers STORE_UNAVAILABLE when the database cannot be used", async () => {
    const store = open();
    store.close();
    await expect(store.getExecution("exec_x")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE", status: 503 });
    await expect(
      store.appendEvents([{ id: "e", executionId: "x", requestId: "r", type: "received", time: 1, fields: {} }]),
    ).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  });
});

import { describe, expect, it } from "vitest";
import { EffectApprovals } from "../approvals/effect-approvals.js";
import { AuditLog } from "../audit/audit-log.js";
import { limitPolicy, loadConfig } from "../config.js";
import { silentLogger } from "../logger.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { closeInterrupted, closeOrphanedEffectApprovals } from "./recovery.js";

describe("closing executions a dead process left running", () => {
  it("closes only those untouched for longer than the longest run plus the grace, once, with an event", async () => {
    const limits = limitPolicy(loadConfig({}));
    const store = SqliteStore.open({ path: ":memory:", logger: silentLogger() });
    const audit = new AuditLog(store);
    const base = { owner: "o", status: "running" as const, kind: "adhoc" as const, dryRun: false, requestId: "req" };
    await store.createExecution({ ...base, id: "exec_old", createdAt: 1_000 });
    await store.createExecution({ ...base, id: "exec_recent", createdAt: 500_000 });
    const seen: string[] = [];
    audit.subscribe("exec_old", (e) => seen.push(e.type));

    const now = 1_000 + limits.maxima.timeoutMs + limits.maxima.killGraceMs + 60_000 + 1;
    expect(await closeInterrupted(store, audit, limits, now, 60_000)).toBe(1);
    expect(await closeInterrupted(store, audit, limits, now, 60_000)).toBe(0);
    expect(await store.getExecution("exec_old")).toMatchObject({ status: "completed", error: { code: "INTERNAL" } });
    expect((await store.getExecution("exec_recent"))?.status).toBe("running");
    expect((await store.listEvents("exec_old")).map((e) => e.type)).toEqual(["completed"]);
    expect(seen).toEqual(["completed"]);
  });
});

describe("effect approvals a dead process left behind", () => {
  const limits = limitPolicy(loadConfig({}));
  const longest = limits.maxima.timeoutMs + limits.maxima.killGraceMs;
  const base = { owner: "o", status: "running" as const, kind: "adhoc" as const, dryRun: false, requestId: "req" };
  const effect = { kind: "egress" as const, method: "POST", url: "https://x.example/", hop: 0 };

  async function setup() {
    const store = SqliteStore.open({ path: ":memory:", logger: silentLogger() });
    const audit = new AuditLog(store);
    const effects = new EffectApprovals({ store, audit, logger: silentLogger(), ttlMs: 60_000 });
    await store.createExecution({ ...base, id: "exec_wait", createdAt: 1_000 });
    await store.requestEffectApproval({
      id: "apr_fx",
      executionId: "exec_wait",
      requestedBy: "o",
      effect,
      reason: "on-effect",
      createdAt: 2_000,
      expiresAt: 4e12,
    });
    return { store, audit, effects };
  }

  it("expires every pending effect approval at startup, leaving run approvals and the execution alone", async () => {
    const { store, audit, effects } = await setup();
    await store.createExecution({ ...base, id: "exec_run", createdAt: 1_000 });
    await store.requestApproval(
      {
        id: "apr_run",
        executionId: "exec_run",
        requestedBy: "o",
        codeHash: "c",
        inputHash: "i",
        reason: "always",
        createdAt: 1_000,
        expiresAt: 4e12,
      },
      { kind: "adhoc" },
      1_000,
    );
    const seen: string[] = [];
    audit.subscribe("exec_wait", (e) => seen.push(e.type));
    expect(await closeOrphanedEffectApprovals(store, effects)).toBe(1);
    expect(await closeOrphanedEffectApprovals(store, effects)).toBe(0);
    expect(await store.getApproval("apr_fx")).toMatchObject({ status: "expired", decidedBy: "system" });
    expect(await store.getApproval("apr_run")).toMatchObject({ status: "pending" });
    expect((await store.listEvents("exec_wait")).at(-1)).toMatchObject({
      type: "approval_expired",
      cause: "server_restart",
    });
    expect(seen).toEqual(["approval_expired"]);
    expect((await store.getExecution("exec_wait"))?.status).toBe("running");
  });

  it("does not close an execution whose effect waits for a human, and restarts its clock at the decision", async () => {
    const { store, audit, effects } = await setup();
    // Long past the longest run, counted from the record's update and from the request alike.
    const now = 2_000 + longest + 60_000 + 1_000;
    expect(await closeInterrupted(store, audit, limits, now, 60_000)).toBe(0);

    const decided = await store.decideEffectApproval("apr_fx", {
      to: "approved",
      by: "reviewer",
      reason: "ok",
      at: now - 10,
      requireRunning: true,
    });
    expect(decided.ok).toBe(true);
    expect(await closeInterrupted(store, audit, limits, now, 60_000)).toBe(0);
    expect(await closeInterrupted(store, audit, limits, now - 10 + longest + 60_001, 60_000)).toBe(1);
    expect((await store.getExecution("exec_wait"))?.status).toBe("completed");
    expect(effects.waiting).toBe(0);
  });

  it("closes at once an execution whose effect approval the restart closed", async () => {
    const { store, audit, effects } = await setup();
    await closeOrphanedEffectApprovals(store, effects);
    const now = 2_000 + longest + 60_000 + 1;
    expect(await closeInterrupted(store, audit, limits, now, 60_000)).toBe(1);
  });
});

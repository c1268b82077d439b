import { describe, expect, it } from "vitest";
import { AuditLog } from "../audit/audit-log.js";
import { silentLogger } from "../logger.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { ApprovalRecord, ExecutionRecord } from "../store/store.js";
import { ApprovalService } from "./approval-service.js";

const T0 = Date.parse("2030-01-01T00:00:00Z");

async function setup(mismatch?: string) {
  let clock = T0;
  const store = SqliteStore.open({ path: ":memory:", logger: silentLogger() });
  const audit = new AuditLog(store, () => clock);
  const launched: string[] = [];
  const checked: Array<[ExecutionRecord, ApprovalRecord]> = [];
  const service = new ApprovalService({
    store,
    audit,
    logger: silentLogger(),
    now: () => clock,
    binding: {
      mismatch: async (execution, approval) => {
        checked.push([execution, approval]);
        return mismatch;
      },
      launch: (id) => launched.push(id),
    },
  });
  await store.createExecution({
    id: "exec_1",
    owner: "agent",
    status: "running",
    kind: "adhoc",
    dryRun: false,
    requestId: "req_0",
    createdAt: T0,
  });
  await store.requestApproval(
    {
      id: "apr_1",
      executionId: "exec_1",
      requestedBy: "agent",
      codeHash: "c",
      inputHash: "i",
      reason: "r",
      createdAt: T0,
      expiresAt: T0 + 1000,
    },
    { kind: "adhoc" },
    T0,
  );
  return { store, service, launched, checked, advance: (ms: number) => (clock += ms) };
}

describe("ApprovalService", () => {
  it("approves once, checks the binding first, launches once", async () => {
    const { service, launched, checked, store } = await setup();
    await expect(service.approve("apr_1", "reviewer", "ok", "req_1")).resolves.toMatchObject({ status: "approved" });
    await expect(service.approve("apr_1", "reviewer", "ok", "req_2")).rejects.toMatchObject({
      code: "APPROVAL_NOT_PENDING",
    });
    expect(launched).toEqual(["exec_1"]);
    expect(checked).toHaveLength(1);
    expect((await store.listEvents("exec_1")).map((e) => [e.type, e.requestId])).toEqual([
      ["approval_approved", "req_1"],
    ]);
  });

  it("refuses the requester, whoever else it is", async () => {
    const { service, launched } = await setup();
    await expect(service.approve("apr_1", "agent", "mine", "r")).rejects.toMatchObject({
      code: "SELF_APPROVAL_FORBIDDEN",
    });
    await expect(service.deny("apr_1", "agent", "mine", "r")).rejects.toMatchObject({
      code: "SELF_APPROVAL_FORBIDDEN",
    });
    expect(launched).toEqual([]);
  });

  it("expires on a late decision exactly at expiresAt, and the sweeper closes the rest", async () => {
    const late = await setup();
    late.advance(999);
    expect(await late.service.expireOverdue()).toBe(0);
    late.advance(1);
    await expect(late.service.approve("apr_1", "reviewer", "ok", "r")).rejects.toMatchObject({
      code: "APPROVAL_EXPIRED",
    });
    expect((await late.store.getExecution("exec_1"))?.status).toBe("expired");
    await expect(late.service.deny("apr_1", "reviewer", "no", "r")).rejects.toMatchObject({ code: "APPROVAL_EXPIRED" });

    const swept = await setup();
    swept.advance(5000);
    expect(await swept.service.expireOverdue()).toBe(1);
    expect(await swept.service.expireOverdue()).toBe(0);
    expect((await swept.store.listEvents("exec_1")).map((e) => e.type)).toEqual(["approval_expired", "completed"]);
    expect(swept.launched).toEqual([]);
  });

  it("voids the approval when the binding no longer matches, and never launches", async () => {
    const { service, launched, store } = await setup("the code changed");
    await expect(service.approve("apr_1", "reviewer", "ok", "r")).rejects.toMatchObject({ code: "APPROVAL_MISMATCH" });
    expect(await store.getApproval("apr_1")).toMatchObject({ status: "denied", decidedBy: "system" });
    expect(await store.getExecution("exec_1")).toMatchObject({
      status: "denied",
      error: { code: "APPROVAL_MISMATCH" },
    });
    expect(launched).toEqual([]);
  });

  it("records a denial with who and why", async () => {
    const { service, store } = await setup();
    await service.deny("apr_1", "reviewer", "too risky", "req_9");
    const events = await store.listEvents("exec_1");
    expect(events.map((e) => e.type)).toEqual(["approval_denied", "completed"]);
    expect(events[0]).toMatchObject({ by: "reviewer", reason: "too risky", requestId: "req_9" });
    expect(await store.getExecution("exec_1")).toMatchObject({ status: "denied", error: { code: "APPROVAL_DENIED" } });
  });

  it("answers NOT_FOUND for an unknown approval", async () => {
    const { service } = await setup();
    await expect(service.approve("apr_nope", "reviewer", "ok", "r")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

import { describe, expect, it, vi } from "vitest";
import { AuditLog } from "../audit/audit-log.js";
import type { AuditEvent } from "../audit/event.js";
import { silentLogger } from "../logger.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { ControlStore, EffectDetail } from "../store/store.js";
import { UnavailableStore } from "../store/unavailable-store.js";
import { ApprovalService } from "./approval-service.js";
import { type EffectApprovalRequest, EffectApprovals } from "./effect-approvals.js";
import { approvalView } from "./view.js";

const T0 = Date.parse("2030-01-01T00:00:00Z");
const EFFECT: EffectDetail = {
  kind: "egress",
  method: "POST",
  url: "https://hooks.example.com/v1/deploy?…",
  hop: 0,
  credential: "DEPLOY_TOKEN",
};
const REQUEST: EffectApprovalRequest = {
  executionId: "exec_1",
  requestId: "req_run",
  requestedBy: "agent",
  tool: { name: "deploy", version: 3 },
  effect: EFFECT,
  reason: "on-effect: POST is mutating",
};

async function setup(options: { ttlMs?: number; pollMs?: number; store?: SqliteStore } = {}) {
  let clock = T0;
  const now = () => clock;
  const store = options.store ?? SqliteStore.open({ path: ":memory:", logger: silentLogger() });
  const audit = new AuditLog(store, now);
  const effects = new EffectApprovals({
    store,
    audit,
    logger: silentLogger(),
    now,
    ttlMs: options.ttlMs ?? 60_000,
    pollMs: options.pollMs ?? 20,
  });
  const launched: string[] = [];
  const service = new ApprovalService({
    store,
    audit,
    logger: silentLogger(),
    now,
    effects,
    binding: { mismatch: async () => undefined, launch: (id) => launched.push(id) },
  });
  if (!options.store) {
    await store.createExecution({
      id: "exec_1",
      owner: "agent",
      status: "running",
      kind: "tool",
      toolName: "deploy",
      toolVersion: 3,
      dryRun: false,
      requestId: "req_run",
      createdAt: T0,
    });
  }
  const published: AuditEvent[] = [];
  audit.subscribe("exec_1", (e) => published.push(e));
  return { store, audit, effects, service, launched, published, advance: (ms: number) => (clock += ms) };
}

/** The id of the one pending effect approval (the insert happens within `ask`'s first step). */
async function pendingId(store: ControlStore): Promise<string> {
  return vi.waitFor(async () => {
    const [first] = await store.listApprovals({ status: "pending", kind: "effect", limit: 10 });
    if (!first) throw new Error("no pending effect approval yet");
    return first.id;
  });
}

const types = (events: readonly AuditEvent[]) => events.map((e) => e.type);

describe("EffectApprovals", () => {
  it("records the pending effect, and an approval resolves the waiting call at once", async () => {
    const { store, effects, service, published, launched } = await setup({ pollMs: 60_000 });
    const answer = effects.ask(REQUEST);
    const id = await pendingId(store);
    expect(effects.waiting).toBe(1);
    expect(await store.getApproval(id)).toMatchObject({
      kind: "effect",
      status: "pending",
      requestedBy: "agent",
      toolName: "deploy",
      toolVersion: 3,
      effect: EFFECT,
      expiresAt: T0 + 60_000,
    });
    // The execution's run approval is a different thing: the record shows none.
    expect(await store.getApprovalForExecution("exec_1")).toBeUndefined();

    await expect(service.approve(id, "reviewer", "ticket 7", "req_review")).resolves.toMatchObject({
      status: "approved",
      decidedBy: "reviewer",
    });
    // Woken in-process: the poll (60 s here) could not have done it.
    await expect(answer).resolves.toBe("approved");
    expect(effects.waiting).toBe(0);
    const events = await store.listEvents("exec_1");
    expect(types(events)).toEqual(["approval_requested", "approval_approved"]);
    expect(events[0]).toMatchObject({ approvalId: id, kind: "effect", effect: EFFECT, requestId: "req_run" });
    expect(events[1]).toMatchObject({ approvalId: id, kind: "effect", by: "reviewer", requestId: "req_review" });
    expect(types(published)).toEqual(["approval_requested", "approval_approved"]);
    // Deciding an effect never launches, moves or completes the execution.
    expect(launched).toEqual([]);
    expect(await store.getExecution("exec_1")).toMatchObject({ status: "running" });
  });

  it("answers denied on a denial, and the execution keeps running", async () => {
    const { store, effects, service } = await setup();
    const answer = effects.ask(REQUEST);
    const id = await pendingId(store);
    await service.deny(id, "reviewer", "not now", "req_review");
    await expect(answer).resolves.toBe("denied");
    expect(types(await store.listEvents("exec_1"))).toEqual(["approval_requested", "approval_denied"]);
    expect(await store.getExecution("exec_1")).toMatchObject({ status: "running" });
    expect((await store.getExecution("exec_1"))?.error).toBeUndefined();
  });

  it("expires after its TTL; a late decision is refused with APPROVAL_EXPIRED", async () => {
    const { store, effects, service } = await setup({ ttlMs: 60, pollMs: 60_000 });
    const started = performance.now();
    const answer = effects.ask(REQUEST);
    const id = await pendingId(store);
    await expect(answer).resolves.toBe("expired");
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
    expect(await store.getApproval(id)).toMatchObject({ status: "expired", decidedBy: "system" });
    const events = await store.listEvents("exec_1");
    expect(types(events)).toEqual(["approval_requested", "approval_expired"]);
    expect(events[1]).toMatchObject({ cause: "ttl", kind: "effect" });
    await expect(service.approve(id, "reviewer", "late", "r")).rejects.toMatchObject({ code: "APPROVAL_EXPIRED" });
    expect(await store.getExecution("exec_1")).toMatchObject({ status: "running" });
  });

  it("expires on the injected clock at the next poll, and on a decision at expiresAt", async () => {
    const polled = await setup({ ttlMs: 60_000, pollMs: 10 });
    const answer = polled.effects.ask(REQUEST);
    await pendingId(polled.store);
    polled.advance(60_000);
    await expect(answer).resolves.toBe("expired");

    const late = await setup({ ttlMs: 60_000, pollMs: 60_000 });
    const waiting = late.effects.ask(REQUEST);
    const id = await pendingId(late.store);
    late.advance(60_000);
    await expect(late.service.approve(id, "reviewer", "just too late", "r")).rejects.toMatchObject({
      code: "APPROVAL_EXPIRED",
    });
    await expect(waiting).resolves.toBe("expired");
  });

  it("closes the approval when the execution ends (signal), and resolves expired without a rejection", async () => {
    const { store, effects, service } = await setup({ pollMs: 60_000 });
    const controller = new AbortController();
    const answer = effects.ask(REQUEST, controller.signal);
    const id = await pendingId(store);
    controller.abort(new Error("deadline"));
    await expect(answer).resolves.toBe("expired");
    expect(await store.getApproval(id)).toMatchObject({ status: "expired", decidedBy: "system" });
    expect((await store.listEvents("exec_1")).at(-1)).toMatchObject({
      type: "approval_expired",
      cause: "execution_ended",
    });
    expect(await store.listApprovals({ status: "pending", limit: 10 })).toEqual([]);
    await expect(service.approve(id, "reviewer", "too late", "r")).rejects.toMatchObject({
      code: "APPROVAL_NOT_PENDING",
      message: expect.stringMatching(/execution ended/),
    });
    expect(effects.waiting).toBe(0);

    // Already aborted: nothing is recorded.
    const aborted = AbortSignal.abort();
    await expect(effects.ask(REQUEST, aborted)).resolves.toBe("expired");
    expect(await store.listApprovals({ limit: 10 })).toHaveLength(1);
  });

  it("lets exactly one of 20 concurrent decisions win, and the waiter gets that one", async () => {
    const { store, effects, service } = await setup({ pollMs: 60_000 });
    const answer = effects.ask(REQUEST);
    const id = await pendingId(store);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? service.approve(id, `reviewer${i}`, `yes ${i}`, `req_${i}`)
          : service.deny(id, `reviewer${i}`, `no ${i}`, `req_${i}`),
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "APPROVAL_NOT_PENDING" });
    }
    const winner = (won[0] as PromiseFulfilledResult<{ status: string }>).value.status;
    await expect(answer).resolves.toBe(winner);
    const decisions = types(await store.listEvents("exec_1")).filter((t) => t !== "approval_requested");
    expect(decisions).toHaveLength(1);
  });

  it("never lets the execution's owner decide its own effect", async () => {
    const { store, effects, service } = await setup({ pollMs: 60_000 });
    const controller = new AbortController();
    const answer = effects.ask(REQUEST, controller.signal);
    const id = await pendingId(store);
    await expect(service.approve(id, "agent", "mine", "r")).rejects.toMatchObject({ code: "SELF_APPROVAL_FORBIDDEN" });
    await expect(service.deny(id, "agent", "mine", "r")).rejects.toMatchObject({ code: "SELF_APPROVAL_FORBIDDEN" });
    expect((await store.getApproval(id))?.status).toBe("pending");
    controller.abort();
    await expect(answer).resolves.toBe("expired");
  });

  it("refuses a decision once the execution stopped running, and closes the approval", async () => {
    const { store, effects, service } = await setup({ pollMs: 60_000 });
    const answer = effects.ask(REQUEST);
    const id = await pendingId(store);
    await store.updateExecution("exec_1", ["running"], { status: "completed" }, T0 + 5);
    await expect(service.approve(id, "reviewer", "ok", "r")).rejects.toMatchObject({
      code: "APPROVAL_NOT_PENDING",
      message: expect.stringMatching(/no longer running/),
    });
    await expect(answer).resolves.toBe("expired");
    expect(await store.getApproval(id)).toMatchObject({ status: "expired", decisionReason: expect.any(String) });
  });

  it("notices a decision made elsewhere (another instance on the same store) by polling", async () => {
    const { store, effects } = await setup({ pollMs: 20 });
    const elsewhere = new EffectApprovals({
      store,
      audit: new AuditLog(store),
      logger: silentLogger(),
      ttlMs: 60_000,
    });
    const answer = effects.ask(REQUEST);
    const id = await pendingId(store);
    const approval = await store.getApproval(id);
    if (!approval) throw new Error("missing");
    await elsewhere.decide(approval, "denied", "reviewer", "from the other node", "r");
    expect(elsewhere.waiting).toBe(0);
    await expect(answer).resolves.toBe("denied");
  });

  it("fails closed: a store that cannot record the approval rejects, and nothing waits", async () => {
    const unavailable = new EffectApprovals({
      store: new UnavailableStore(),
      audit: new AuditLog(new UnavailableStore()),
      logger: silentLogger(),
      ttlMs: 60_000,
    });
    await expect(unavailable.ask(REQUEST)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(unavailable.waiting).toBe(0);

    const { store, effects } = await setup();
    store.close();
    await expect(effects.ask(REQUEST)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(effects.waiting).toBe(0);
  });

  it("refuses to record an effect of an execution that is not running, or for someone else", async () => {
    const { store, effects } = await setup();
    await expect(effects.ask({ ...REQUEST, requestedBy: "mallory" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(effects.ask({ ...REQUEST, executionId: "exec_nope" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await store.updateExecution("exec_1", ["running"], { status: "completed" }, T0 + 1);
    await expect(effects.ask(REQUEST)).rejects.toMatchObject({ code: "APPROVAL_NOT_PENDING" });
    expect(await store.listApprovals({ limit: 10 })).toEqual([]);
    expect(effects.waiting).toBe(0);
  });

  it("is expired by the sweeper without touching the execution", async () => {
    const { store, effects, service, advance } = await setup({ pollMs: 60_000 });
    const answer = effects.ask(REQUEST);
    await pendingId(store);
    advance(60_000);
    expect(await service.expireOverdue()).toBe(1);
    await expect(answer).resolves.toBe("expired");
    expect(types(await store.listEvents("exec_1"))).toEqual(["approval_requested", "approval_expired"]);
    expect(await store.getExecution("exec_1")).toMatchObject({ status: "running" });
  });

  it("is listed beside run approvals with its kind and effect, without binding hashes or subject", async () => {
    const { store, effects, service } = await setup({ pollMs: 60_000 });
    await store.createExecution({
      id: "exec_run",
      owner: "agent",
      status: "running",
      kind: "adhoc",
      dryRun: false,
      requestId: "req_0",
      createdAt: T0,
    });
    await store.requestApproval(
      {
        id: "apr_run",
        executionId: "exec_run",
        requestedBy: "agent",
        codeHash: "c",
        inputHash: "i",
        reason: "always",
        createdAt: T0 - 1,
        expiresAt: T0 + 1000,
      },
      { kind: "adhoc", body: { language: "python", code: "1", args: [], env: {}, files: [] } },
      T0,
    );
    const controller = new AbortController();
    const answer = effects.ask(REQUEST, controller.signal);
    const id = await pendingId(store);
    const listed = await service.list("pending", 10);
    expect(listed.map((a) => [a.id, a.kind])).toEqual([
      [id, "effect"],
      ["apr_run", "run"],
    ]);
    expect((await service.list("pending", 10, "effect")).map((a) => a.id)).toEqual([id]);
    const [effectView, runView] = await Promise.all(listed.map((a) => approvalView(a, store)));
    expect(effectView).toMatchObject({ kind: "effect", effect: EFFECT, tool: { name: "deploy", version: 3 } });
    expect(effectView).not.toHaveProperty("subject");
    expect(effectView).not.toHaveProperty("codeHash");
    expect(runView).toMatchObject({ kind: "run", codeHash: "c", subject: { kind: "adhoc", code: "1" } });
    controller.abort();
    await answer;
  });
});

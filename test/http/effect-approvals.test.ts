/**
 * Effect approvals over HTTP (issue 8): a real execution is held running inside a gated sandbox;
 * the test asks for an effect approval through EffectApprovals on the server's own store (standing
 * in for the guest's HTTP call, which is the executor's wiring), then lists and decides it through
 * the approvals API. The waiter lives in the test, so it learns the decision the way another
 * process would: from the store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EffectApprovals } from "../../src/approvals/effect-approvals.js";
import { AuditLog } from "../../src/audit/audit-log.js";
import type { Config } from "../../src/config.js";
import { type Logger, silentLogger } from "../../src/logger.js";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import type { ExecutionRequest, ExecutionResult } from "../../src/sandbox/types.js";
import { openStore } from "../../src/store/open-store.js";
import type { ControlStore, EffectDetail, ExecutionRecord } from "../../src/store/store.js";
import { type ControlPlane, eventTypes, startControlPlane } from "./control-plane.js";
import { ScriptedSandbox } from "./scripted-sandbox.js";

/** Code "gate" stays running until the test opens the gate. */
class GatedSandbox extends ScriptedSandbox {
  private open: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => {
    this.open = resolve;
  });
  release(): void {
    this.open();
  }
  override async execute(request: ExecutionRequest): Promise<ExecutionResult> {
    if (request.code === "gate") await this.gate;
    return super.execute(request);
  }
}

const EFFECT: EffectDetail = {
  kind: "egress",
  method: "POST",
  url: "https://hooks.example.com/v1/deploy?…",
  hop: 0,
  credential: "DEPLOY_TOKEN",
};

const sandbox = new GatedSandbox();
let cp: ControlPlane;
let store: ControlStore | undefined;
let effects: EffectApprovals;
let execution: ExecutionRecord;
let run: Promise<unknown>;

beforeAll(async () => {
  cp = await startControlPlane(
    {},
    {
      createSandboxes: async () => new SandboxRegistry([sandbox]),
      openStore: (config: Config, logger: Logger) => {
        store = openStore(config, logger);
        return store;
      },
    },
  );
  if (!store) throw new Error("the server did not open its store through the test");
  const shared = store;
  effects = new EffectApprovals({
    store: shared,
    audit: new AuditLog(shared),
    logger: silentLogger(),
    ttlMs: 60_000,
    pollMs: 20,
  });
  // "boss" has execute and approve: it may start the run but never decide its effects.
  run = cp.call("boss", "POST", "/v1/execute", { language: "javascript", code: "gate" });
  execution = await until(async () => (await shared.listExecutions("running"))[0]);
});
afterAll(async () => {
  sandbox.release();
  await run;
  await cp?.close();
});

async function until<T>(probe: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function ask() {
  const answer = effects.ask({
    executionId: execution.id,
    requestId: execution.requestId,
    requestedBy: execution.owner,
    effect: EFFECT,
    reason: "on-effect: POST is mutating",
  });
  const id = until(async () => {
    const { body } = await cp.call("approver", "GET", "/v1/approvals?status=pending&kind=effect");
    return body.approvals?.[0]?.id;
  });
  return { answer, id };
}

describe("effect approvals through the approvals API", () => {
  it("lists a pending effect with its kind and detail, and approving lets the call proceed", async () => {
    const { answer, id } = ask();
    const approvalId = await id;
    const listed = await cp.call("approver", "GET", "/v1/approvals?status=pending");
    const mine = listed.body.approvals?.find((a) => a.id === approvalId);
    expect(mine).toMatchObject({ kind: "effect", status: "pending", executionId: execution.id, requestedBy: "boss" });
    expect(mine).toMatchObject({ effect: EFFECT });
    expect(mine?.subject).toBeUndefined();
    const one = await cp.call("admin", "GET", `/v1/approvals/${approvalId}`);
    expect(one.body).toMatchObject({ kind: "effect", effect: EFFECT, status: "pending" });

    const self = await cp.call("boss", "POST", `/v1/approvals/${approvalId}/approve`, { reason: "trust me" });
    expect(self.status).toBe(403);
    expect(self.body.error?.code).toBe("SELF_APPROVAL_FORBIDDEN");

    const approved = await cp.call("approver", "POST", `/v1/approvals/${approvalId}/approve`, { reason: "ticket 9" });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      approval: { kind: "effect", status: "approved", decidedBy: "approver" },
      execution: { id: execution.id, status: "running" },
    });
    await expect(answer).resolves.toBe("approved");
    const again = await cp.call("approver2", "POST", `/v1/approvals/${approvalId}/deny`, { reason: "late" });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe("APPROVAL_NOT_PENDING");

    const record = await cp.call("boss", "GET", `/v1/executions/${execution.id}`);
    expect(record.body.status).toBe("running");
    expect(record.body.approval).toBeUndefined();
    expect(eventTypes(record.body).slice(-2)).toEqual(["approval_requested", "approval_approved"]);
    expect(record.body.events?.at(-1)).toMatchObject({ approvalId, kind: "effect", by: "approver" });
  });

  it("denying fails the call and leaves the execution running", async () => {
    const { answer, id } = ask();
    const denied = await cp.call("approver2", "POST", `/v1/approvals/${await id}/deny`, { reason: "no" });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({
      approval: { kind: "effect", status: "denied" },
      execution: { id: execution.id, status: "running" },
    });
    await expect(answer).resolves.toBe("denied");
    expect((await cp.call("boss", "GET", `/v1/executions/${execution.id}`)).body.status).toBe("running");
  });

  it("refuses a decision once the execution has finished, and the waiting call ends", async () => {
    const { answer, id } = ask();
    const approvalId = await id;
    sandbox.release();
    const finished = (await run) as { status: number };
    expect(finished.status).toBe(200);
    const late = await cp.call("approver", "POST", `/v1/approvals/${approvalId}/approve`, { reason: "too late" });
    expect(late.status).toBe(409);
    expect(late.body.error?.code).toBe("APPROVAL_NOT_PENDING");
    await expect(answer).resolves.toBe("expired");
    const closed = await cp.call("approver", "GET", `/v1/approvals/${approvalId}`);
    expect(closed.body).toMatchObject({ kind: "effect", status: "expired", decidedBy: "system" });
    expect((await cp.call("approver", "GET", "/v1/approvals?status=pending&kind=effect")).body.approvals).toEqual([]);
    expect((await cp.call("approver", "GET", "/v1/approvals?kind=maybe")).status).toBe(400);
  });
});

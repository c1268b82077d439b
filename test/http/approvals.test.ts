/**
 * Approval lifecycle over HTTP, with a scripted sandbox that counts runs (what matters here is how
 * many times something ran, not what it printed): approve, deny, self-approval, replay, code swap,
 * and the 20-way approval race.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import type { ExecutionRequest, ExecutionResult } from "../../src/sandbox/types.js";
import { APPROVED_RUN_EVENTS, type ControlPlane, eventTypes, startControlPlane, waitFor } from "./control-plane.js";
import { ScriptedSandbox } from "./scripted-sandbox.js";

class CountingSandbox extends ScriptedSandbox {
  readonly ran: ExecutionRequest[] = [];
  override execute(request: ExecutionRequest): Promise<ExecutionResult> {
    this.ran.push(request);
    return super.execute(request);
  }
}

const sandbox = new CountingSandbox();
let cp: ControlPlane;
const DEPLOY = {
  language: "javascript",
  code: "ok",
  description: "deploys",
  policy: { sideEffect: "mutating", approval: "on-effect" },
};

beforeAll(async () => {
  cp = await startControlPlane({}, { createSandboxes: async () => new SandboxRegistry([sandbox]) });
  expect((await cp.call("admin", "PUT", "/v1/tools/deploy", DEPLOY)).status).toBe(201);
  const lookup = { ...DEPLOY, policy: { sideEffect: "read-only", approval: "on-effect" } };
  expect((await cp.call("admin", "PUT", "/v1/tools/lookup", lookup)).status).toBe(201);
});
afterAll(() => cp?.close());

async function invokePending(role: "agent" | "boss" = "agent", input: unknown = { env: "prod" }) {
  const response = await cp.call(role, "POST", "/v1/tools/deploy/invoke", { input });
  expect(response.status).toBe(202);
  return response;
}

describe("approvals", () => {
  it("runs a read-only tool at once, without asking", async () => {
    const { status, body } = await cp.call("agent", "POST", "/v1/tools/lookup/invoke", { input: 1 });
    expect(status).toBe(200);
    expect(body).toMatchObject({ exitCode: 0, tool: { name: "lookup", version: 1 }, dryRun: false });
  });

  it("makes a mutating tool wait for another key's approval, then runs it exactly once", async () => {
    const before = sandbox.ran.length;
    const pending = await invokePending();
    const id = pending.body.id ?? "";
    expect(pending.body).toMatchObject({
      status: "pending_approval",
      approval: { id: expect.stringMatching(/^apr_/) },
    });
    expect(Date.parse(pending.body.approval?.expiresAt ?? "")).toBeGreaterThan(Date.now());
    expect(pending.headers.get("location")).toBe(`/v1/executions/${id}`);

    const waiting = await cp.call("agent", "GET", `/v1/executions/${id}`);
    expect(waiting.body).toMatchObject({ status: "pending_approval", approval: { status: "pending" } });
    expect(eventTypes(waiting.body)).toEqual(["received", "policy_decision", "secret_scan", "approval_requested"]);
    expect(sandbox.ran.length).toBe(before);

    const listed = await cp.call("approver", "GET", "/v1/approvals?status=pending");
    const mine = listed.body.approvals?.find((a) => a.executionId === id);
    expect(mine).toMatchObject({ status: "pending", requestedBy: "agent" });
    expect(mine?.subject).toMatchObject({ kind: "tool", code: "ok", input: { env: "prod" } });

    const approved = await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, {
      reason: "change ticket 42",
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      approval: { status: "approved", decidedBy: "approver" },
      execution: { id, status: "running" },
    });

    const done = await waitFor(cp, "agent", id);
    expect(done).toMatchObject({
      status: "completed",
      result: { id, exitCode: 0, tool: { name: "deploy", version: 1 } },
    });
    expect(eventTypes(done)).toEqual([...APPROVED_RUN_EVENTS]);
    expect(done.events?.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const approvedEvent = done.events?.find((e) => e.type === "approval_approved");
    expect(approvedEvent).toMatchObject({ by: "approver", reason: "change ticket 42" });
    expect(approvedEvent?.requestId).toBe(approved.headers.get("x-request-id"));
    expect(sandbox.ran.length).toBe(before + 1);
    expect(sandbox.ran.at(-1)?.stdin).toBe('{"env":"prod"}');
  });

  it("records a denial with its reason and never runs", async () => {
    const before = sandbox.ran.length;
    const pending = await invokePending();
    const denied = await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/deny`, {
      reason: "not during the freeze",
    });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ approval: { status: "denied" }, execution: { status: "denied" } });
    const record = await waitFor(cp, "agent", pending.body.id ?? "");
    expect(record).toMatchObject({ status: "denied", error: { code: "APPROVAL_DENIED" } });
    expect(record.result).toBeUndefined();
    expect(eventTypes(record).slice(-2)).toEqual(["approval_denied", "completed"]);
    const late = await cp.call("approver2", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, {
      reason: "x",
    });
    expect(late.status).toBe(409);
    expect(late.body.error?.code).toBe("APPROVAL_NOT_PENDING");
    expect(sandbox.ran.length).toBe(before);
  });

  it("needs a reason to decide", async () => {
    const pending = await invokePending();
    const missing = await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error?.code).toBe("VALIDATION_FAILED");
  });

  it("never lets the requesting key decide its own request, not even with admin and approve", async () => {
    const pending = await invokePending("boss");
    const path = `/v1/approvals/${pending.body.approval?.id}`;
    for (const action of ["approve", "deny"]) {
      const self = await cp.call("boss", "POST", `${path}/${action}`, { reason: "trust me" });
      expect(self.status).toBe(403);
      expect(self.body.error?.code).toBe("SELF_APPROVAL_FORBIDDEN");
    }
    expect((await cp.call("boss", "GET", path)).body.status).toBe("pending");
  });

  it("keeps deciding to the approve scope and reading to approve or admin", async () => {
    const pending = await invokePending();
    const path = `/v1/approvals/${pending.body.approval?.id}`;
    expect((await cp.call("agent", "POST", `${path}/approve`, { reason: "me" })).body.error?.code).toBe("FORBIDDEN");
    expect((await cp.call("admin", "POST", `${path}/approve`, { reason: "me" })).body.error?.code).toBe("FORBIDDEN");
    expect((await cp.call("agent", "GET", "/v1/approvals")).status).toBe(403);
    expect((await cp.call("admin", "GET", "/v1/approvals?status=pending")).status).toBe(200);
    expect((await cp.call("approver", "GET", "/v1/approvals?status=maybe")).status).toBe(400);
    expect((await cp.call("approver", "GET", "/v1/approvals/apr_nope")).status).toBe(404);
  });

  it("is single use: a replayed approval is refused and a new run needs a new approval", async () => {
    const before = sandbox.ran.length;
    const pending = await invokePending("agent", { replay: true });
    const path = `/v1/approvals/${pending.body.approval?.id}/approve`;
    expect((await cp.call("approver", "POST", path, { reason: "ok" })).status).toBe(200);
    const replay = await cp.call("approver2", "POST", path, { reason: "ok again" });
    expect(replay.status).toBe(409);
    expect(replay.body.error?.code).toBe("APPROVAL_NOT_PENDING");
    await waitFor(cp, "agent", pending.body.id ?? "");

    const again = await invokePending("agent", { replay: true });
    expect(again.body.approval?.id).not.toBe(pending.body.approval?.id);
    expect(again.body.id).not.toBe(pending.body.id);
    expect(sandbox.ran.length).toBe(before + 1);
  });

  it("voids an approval when the tool's code changes before the decision (code swap)", async () => {
    const before = sandbox.ran.length;
    const pending = await invokePending("agent", { swap: 1 });
    const swapped = await cp.call("admin", "PUT", "/v1/tools/deploy", { ...DEPLOY, code: "violation" });
    expect(swapped.status).toBe(201);
    const approve = await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, {
      reason: "approving what I saw",
    });
    expect(approve.status).toBe(409);
    expect(approve.body.error?.code).toBe("APPROVAL_MISMATCH");
    expect(approve.body.error?.message).toMatch(/version 1 to 2/);
    const record = await waitFor(cp, "agent", pending.body.id ?? "");
    expect(record).toMatchObject({ status: "denied", error: { code: "APPROVAL_MISMATCH" } });
    expect(record.events?.find((e) => e.type === "approval_denied")).toMatchObject({ by: "system" });
    expect(eventTypes(record).at(-1)).toBe("completed");
    expect(sandbox.ran.length).toBe(before);
    // Restore version 1's code as version 3 for the other tests.
    expect((await cp.call("admin", "PUT", "/v1/tools/deploy", DEPLOY)).body.version).toBe(3);
  });

  it("voids an approval when the tool is deleted before the decision", async () => {
    await cp.call("admin", "PUT", "/v1/tools/doomed", DEPLOY);
    const pending = await cp.call("agent", "POST", "/v1/tools/doomed/invoke", { input: null });
    expect(pending.status).toBe(202);
    expect((await cp.call("admin", "DELETE", "/v1/tools/doomed")).status).toBe(204);
    const approve = await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, {
      reason: "ok",
    });
    expect(approve.body.error?.code).toBe("APPROVAL_MISMATCH");
  });

  it("lets exactly one of 20 parallel approvals win, and runs once", async () => {
    const before = sandbox.ran.length;
    const pending = await invokePending("agent", { race: true });
    const path = `/v1/approvals/${pending.body.approval?.id}/approve`;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        cp.call(i % 2 === 0 ? "approver" : "approver2", "POST", path, { reason: `r${i}` }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    for (const r of responses.filter((x) => x.status === 409)) expect(r.body.error?.code).toBe("APPROVAL_NOT_PENDING");
    const record = await waitFor(cp, "agent", pending.body.id ?? "");
    expect(record.status).toBe("completed");
    expect(eventTypes(record).filter((t) => t === "approval_approved")).toHaveLength(1);
    expect(eventTypes(record).filter((t) => t === "sandbox_started")).toHaveLength(1);
    // Give a stray second run time to show itself before counting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sandbox.ran.length).toBe(before + 1);
  });
});

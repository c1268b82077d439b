/**
 * Approvals over time: expiry (by the sweeper, and on a late decision with an injected clock) and
 * restart (a pending approval survives the server stopping and is approved by the next one).
 */
import { afterEach, describe, expect, it } from "vitest";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import type { ExecutionRequest, ExecutionResult } from "../../src/sandbox/types.js";
import {
  APPROVED_RUN_EVENTS,
  type ControlPlane,
  createDataDir,
  eventTypes,
  startControlPlane,
  waitFor,
} from "./control-plane.js";
import { ScriptedSandbox } from "./scripted-sandbox.js";

class CountingSandbox extends ScriptedSandbox {
  runs = 0;
  override execute(request: ExecutionRequest): Promise<ExecutionResult> {
    this.runs++;
    return super.execute(request);
  }
}

const TOOL = { language: "javascript", code: "ok", policy: { approval: "always", sideEffect: "read-only" } };
const open: ControlPlane[] = [];
afterEach(async () => {
  for (const cp of open.splice(0)) await cp.close();
});

async function start(
  env: Record<string, string>,
  sandbox: CountingSandbox,
  extra: { now?: () => number; dataDir?: string } = {},
) {
  const cp = await startControlPlane(
    env,
    { createSandboxes: async () => new SandboxRegistry([sandbox]), ...(extra.now ? { now: extra.now } : {}) },
    extra.dataDir,
  );
  open.push(cp);
  expect([200, 201]).toContain((await cp.call("admin", "PUT", "/v1/tools/gated", TOOL)).status);
  return cp;
}

describe("approval expiry", () => {
  it("expires an undecided approval in the background: APPROVAL_EXPIRED, nothing runs", async () => {
    const sandbox = new CountingSandbox();
    const cp = await start({ SANDBOX_APPROVAL_TTL_MS: "300", SANDBOX_APPROVAL_SWEEP_MS: "25" }, sandbox);
    const pending = await cp.call("agent", "POST", "/v1/tools/gated/invoke", { input: 1 });
    expect(pending.status).toBe(202);
    const record = await waitFor(cp, "agent", pending.body.id ?? "");
    expect(record).toMatchObject({
      status: "expired",
      error: { code: "APPROVAL_EXPIRED" },
      approval: { status: "expired" },
    });
    expect(eventTypes(record)).toEqual([
      "received",
      "policy_decision",
      "secret_scan",
      "approval_requested",
      "approval_expired",
      "completed",
    ]);
    const late = await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, {
      reason: "sorry",
    });
    expect(late.status).toBe(410);
    expect(late.body.error?.code).toBe("APPROVAL_EXPIRED");
    expect((await cp.call("approver", "GET", "/v1/approvals?status=pending")).body.approvals).toEqual([]);
    expect(sandbox.runs).toBe(0);
  });

  it("refuses a decision that arrives after expiry even before any sweep ran (injected clock)", async () => {
    let clock = Date.parse("2030-01-01T00:00:00Z");
    const sandbox = new CountingSandbox();
    const cp = await start({ SANDBOX_APPROVAL_TTL_MS: "60000", SANDBOX_APPROVAL_SWEEP_MS: "600000" }, sandbox, {
      now: () => clock,
    });
    const pending = await cp.call("agent", "POST", "/v1/tools/gated/invoke", { input: 2 });
    expect(pending.body.approval?.expiresAt).toBe("2030-01-01T00:01:00.000Z");
    clock += 59_999;
    const listed = await cp.call("approver", "GET", "/v1/approvals?status=pending");
    expect(listed.body.approvals?.map((a) => a.id)).toEqual([pending.body.approval?.id]);
    clock += 1;
    const late = await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, {
      reason: "ok",
    });
    expect(late.body.error?.code).toBe("APPROVAL_EXPIRED");
    const record = await cp.call("agent", "GET", `/v1/executions/${pending.body.id}`);
    expect(record.body).toMatchObject({ status: "expired" });
    expect(record.body.events?.find((e) => e.type === "approval_expired")?.time).toBe("2030-01-01T00:01:00.000Z");
    expect(sandbox.runs).toBe(0);
  });
});

describe("restart", () => {
  it("keeps a pending approval across a restart on the same data directory, and runs it once approved", async () => {
    const dataDir = createDataDir();
    const first = new CountingSandbox();
    const before = await start({}, first, { dataDir });
    const pending = await before.call("agent", "POST", "/v1/tools/gated/invoke", { input: { n: 3 } });
    expect(pending.status).toBe(202);
    await before.close({ keepData: true });
    open.splice(open.indexOf(before), 1);

    const second = new CountingSandbox();
    const after = await start({}, second, { dataDir });
    const listed = await after.call("approver", "GET", "/v1/approvals?status=pending");
    expect(listed.body.approvals?.map((a) => a.id)).toEqual([pending.body.approval?.id]);
    expect(listed.body.approvals?.[0]?.subject).toMatchObject({ kind: "tool", input: { n: 3 } });

    const approved = await after.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, {
      reason: "after the restart",
    });
    expect(approved.status).toBe(200);
    const record = await waitFor(after, "agent", pending.body.id ?? "");
    expect(record).toMatchObject({ status: "completed", result: { exitCode: 0 } });
    expect(eventTypes(record)).toEqual([...APPROVED_RUN_EVENTS]);
    expect(first.runs).toBe(0);
    expect(second.runs).toBe(1);
  });
});

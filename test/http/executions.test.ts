/**
 * Execution records and the timeline: every path ends with ordered, complete events; long poll and
 * SSE; ownership (another key gets the same 404 as a missing id; admin sees all).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import { APPROVED_RUN_EVENTS, type ControlPlane, eventTypes, KEYS, startControlPlane } from "./control-plane.js";
import { ScriptedSandbox } from "./scripted-sandbox.js";

const AWS_KEY = ["AKIA", "Q3EGT7XZ5MBN2WLP"].join("");
let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane(
    {
      SANDBOX_DEFAULT_POLICY: JSON.stringify({
        sideEffect: "read-only",
        approval: "never",
        limits: { timeoutMs: 2000 },
        filesystem: { persist: ["/workspace"] },
      }),
    },
    { createSandboxes: async () => new SandboxRegistry([new ScriptedSandbox()]) },
  );
  await cp.call("admin", "PUT", "/v1/tools/gated", {
    language: "javascript",
    code: "sleep:50",
    policy: { approval: "always" },
  });
});
afterAll(() => cp?.close());

const execute = (body: Record<string, unknown>, role: "agent" | "other" | "boss" = "agent") =>
  cp.call(role, "POST", "/v1/execute", { language: "javascript", ...body });

const record = async (id: string, role: "agent" | "other" | "admin" | "approver" = "agent") =>
  (await cp.call(role, "GET", `/v1/executions/${id}`)).body;

describe("the timeline of every path", () => {
  it("an allowed run: received -> policy -> scan -> sandbox -> completed, with the result", async () => {
    const run = await execute({ code: "ok" });
    expect(run.status).toBe(200);
    const rec = await record(run.body.id ?? "");
    expect(rec).toMatchObject({ id: run.body.id, status: "completed", kind: "adhoc", owner: "agent", dryRun: false });
    expect(rec.result).toEqual(run.body);
    expect(eventTypes(rec)).toEqual(["received", "policy_decision", "secret_scan", "sandbox_started", "completed"]);
    const [received, policy, scan, started, completed] = rec.events ?? [];
    expect(received).toMatchObject({
      v: 1,
      seq: 1,
      executionId: run.body.id,
      requestId: run.headers.get("x-request-id"),
    });
    expect(received?.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(policy).toMatchObject({ decision: "allow" });
    expect(scan).toMatchObject({ phase: "input", findings: [] });
    expect(started).toMatchObject({ sandbox: "wasm", language: "javascript", dryRun: false });
    expect(completed).toMatchObject({ status: "completed", outcome: "OK", exitCode: 0 });
    const times = (rec.events ?? []).map((e) => Date.parse(String(e.time)));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(new Set(rec.events?.map((e) => String(e.id))).size).toBe(5);
  });

  it("a policy denial: 403 with capability, target and reason; denied record; no sandbox", async () => {
    const run = await execute({ code: "ok", limits: { timeoutMs: 5000 } });
    expect(run.status).toBe(403);
    expect(run.body.error).toMatchObject({
      code: "POLICY_DENIED",
      details: [{ path: "limits:timeoutMs", message: expect.stringMatching(/exceeds the policy ceiling of 2000/) }],
    });
    const id = run.headers.get("x-execution-id") ?? "";
    const rec = await record(id);
    expect(rec).toMatchObject({ status: "denied", error: { code: "POLICY_DENIED" } });
    expect(eventTypes(rec)).toEqual(["received", "policy_decision", "completed"]);
    expect(rec.events?.[1]).toMatchObject({
      decision: "deny",
      decisions: expect.arrayContaining([
        { decision: "deny", capability: "limits", target: "timeoutMs", reason: expect.any(String) },
      ]),
    });
  });

  it("a secret in the request: 422 naming rule and location, never the value", async () => {
    const run = await execute({ code: "ok", env: { CONFIG: `aws=${AWS_KEY}` } });
    expect(run.status).toBe(422);
    expect(run.body.error).toMatchObject({
      code: "SECRET_DETECTED",
      details: [{ path: "env.CONFIG:1:12", message: "aws-access-key-id" }],
    });
    expect(JSON.stringify(run.body)).not.toContain(AWS_KEY);
    const rec = await record(run.headers.get("x-execution-id") ?? "");
    expect(rec).toMatchObject({ status: "denied", error: { code: "SECRET_DETECTED" } });
    expect(eventTypes(rec)).toEqual(["received", "policy_decision", "secret_scan", "completed"]);
    expect(rec.events?.[2]).toMatchObject({ findings: [{ rule: "aws-access-key-id", location: "env.CONFIG:1:12" }] });
    expect(JSON.stringify(rec)).not.toContain(AWS_KEY);
  });

  it("a limit hit and a sandbox violation each get their event", async () => {
    const timeout = await execute({ code: "timeout" });
    expect(eventTypes(await record(timeout.body.id ?? ""))).toEqual([
      "received",
      "policy_decision",
      "secret_scan",
      "sandbox_started",
      "limit_hit",
      "completed",
    ]);
    const violation = await execute({ code: "violation" });
    const rec = await record(violation.body.id ?? "");
    expect(eventTypes(rec)).toEqual([
      "received",
      "policy_decision",
      "secret_scan",
      "sandbox_started",
      "sandbox_violation",
      "completed",
    ]);
    expect(rec.events?.at(-1)).toMatchObject({ outcome: "SANDBOX_VIOLATION" });
  });

  it("a refused sandbox is a request error, with no record", async () => {
    const run = await execute({ code: "ok", sandbox: "process" });
    expect(run.status).toBe(503);
    expect(run.headers.get("x-execution-id")).toBeNull();
  });
});

describe("ownership", () => {
  it("answers another key exactly as for a missing id, and lets admin read it", async () => {
    const run = await execute({ code: "ok" });
    const id = run.body.id ?? "";
    const foreign = await cp.call("other", "GET", `/v1/executions/${id}`);
    const missing = await cp.call("other", "GET", "/v1/executions/exec_AAAAAAAAAAAAAAAAAAAAAA");
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect({ ...foreign.body.error, requestId: undefined }).toEqual({ ...missing.body.error, requestId: undefined });
    expect((await cp.call("other", "GET", `/v1/executions/${id}/events`)).status).toBe(404);
    expect((await cp.call("approver", "GET", `/v1/executions/${id}`)).status).toBe(404);
    expect((await cp.call("admin", "GET", `/v1/executions/${id}`)).body).toMatchObject({ id, owner: "agent" });
    expect((await cp.call("agent", "GET", "/v1/executions/not-an-id")).status).toBe(404);
  });
});

describe("waiting", () => {
  it("long-polls with ?wait until the approved run completes", async () => {
    const pending = await cp.call("agent", "POST", "/v1/tools/gated/invoke", { input: 1 });
    const id = pending.body.id ?? "";
    const started = performance.now();
    const quick = await cp.call("agent", "GET", `/v1/executions/${id}?wait=200ms`);
    expect(quick.body.status).toBe("pending_approval");
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    const waiting = cp.call("agent", "GET", `/v1/executions/${id}?wait=10s`);
    await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, { reason: "go" });
    const done = await waiting;
    expect(done.body).toMatchObject({ status: "completed", result: { exitCode: 0 } });
    expect((await cp.call("agent", "GET", `/v1/executions/${id}?wait=soon`)).status).toBe(400);
  });

  it("streams the timeline over SSE, stored events first, then live ones, and closes after completed", async () => {
    const pending = await cp.call("agent", "POST", "/v1/tools/gated/invoke", { input: 2 });
    const id = pending.body.id ?? "";
    const response = await fetch(`${cp.server.url}/v1/executions/${id}/events`, {
      headers: { authorization: `Bearer ${KEYS.agent}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = response.text();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, { reason: "go" });
    const frames = (await text).split("\n\n").filter((f) => f.startsWith("event:"));
    const parsed = frames.map((frame) => {
      const field = (name: string) =>
        frame
          .split("\n")
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2);
      return { event: field("event"), id: Number(field("id")), data: JSON.parse(field("data") ?? "{}") };
    });
    expect(parsed.map((p) => p.event)).toEqual([...APPROVED_RUN_EVENTS]);
    expect(parsed.map((p) => p.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const p of parsed) expect(p.data).toMatchObject({ v: 1, seq: p.id, executionId: id, type: p.event });

    const resumed = await fetch(`${cp.server.url}/v1/executions/${id}/events`, {
      headers: { authorization: `Bearer ${KEYS.agent}`, "last-event-id": "5" },
      signal: AbortSignal.timeout(10_000),
    });
    const ids = (await resumed.text()).split("\n").filter((l) => l.startsWith("id: "));
    expect(ids).toEqual(["id: 6", "id: 7"]);
  });
});

/**
 * Fail closed on the store (cannot open, or a write fails mid-pipeline: nothing runs), and the
 * configurable default policy for ad-hoc POST /v1/execute.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServiceError } from "../../src/errors.js";
import { silentLogger } from "../../src/logger.js";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import type { ExecutionRequest, ExecutionResult } from "../../src/sandbox/types.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { ControlStore } from "../../src/store/store.js";
import { type ControlPlane, createDataDir, eventTypes, startControlPlane, waitFor } from "./control-plane.js";
import { ScriptedSandbox } from "./scripted-sandbox.js";

class CountingSandbox extends ScriptedSandbox {
  runs = 0;
  override execute(request: ExecutionRequest): Promise<ExecutionResult> {
    this.runs++;
    return super.execute(request);
  }
}

const open: ControlPlane[] = [];
afterEach(async () => {
  for (const cp of open.splice(0)) await cp.close();
});

async function start(env: Record<string, string>, sandbox: CountingSandbox, openStore?: () => ControlStore) {
  const cp = await startControlPlane(env, {
    createSandboxes: async () => new SandboxRegistry([sandbox]),
    ...(openStore ? { openStore } : {}),
  });
  open.push(cp);
  return cp;
}

describe("store unavailable: fail closed", () => {
  it("refuses every execution and tool operation when the store cannot be opened", async () => {
    const dataDir = createDataDir();
    const blocker = join(dataDir, "not-a-directory");
    writeFileSync(blocker, "");
    const sandbox = new CountingSandbox();
    const cp = await start({ SANDBOX_STORE_PATH: join(blocker, "store.db") }, sandbox);
    const run = await cp.call("agent", "POST", "/v1/execute", { language: "javascript", code: "ok" });
    expect(run.status).toBe(503);
    expect(run.body.error?.code).toBe("STORE_UNAVAILABLE");
    expect(
      (await cp.call("admin", "PUT", "/v1/tools/t", { language: "javascript", code: "ok", policy: {} })).status,
    ).toBe(503);
    expect((await cp.call("agent", "POST", "/v1/tools/t/invoke", { input: 1 })).status).toBe(503);
    expect((await cp.call("approver", "GET", "/v1/approvals")).status).toBe(503);
    expect((await cp.call("agent", "GET", "/v1/runtimes")).status).toBe(200);
    expect(sandbox.runs).toBe(0);
    expect(cp.server.logs.some((l) => String(l.msg).startsWith("could not open the store"))).toBe(true);
  });

  it("stops before the sandbox when a step cannot be recorded", async () => {
    const sandbox = new CountingSandbox();
    const real = SqliteStore.open({ path: ":memory:", logger: silentLogger() });
    // The first commit of an execution (its record and the steps up to sandbox_started) fails.
    const failing: ControlStore = Object.assign(Object.create(real) as ControlStore, {
      createExecution: () => Promise.reject(new ServiceError("STORE_UNAVAILABLE")),
    });
    const cp = await start({}, sandbox, () => failing);
    const run = await cp.call("agent", "POST", "/v1/execute", { language: "javascript", code: "ok" });
    expect(run.status).toBe(503);
    expect(run.body.error?.code).toBe("STORE_UNAVAILABLE");
    expect(sandbox.runs).toBe(0);
  });
});

describe("default policy for ad-hoc executions", () => {
  it("can make every ad-hoc run wait for approval", async () => {
    const sandbox = new CountingSandbox();
    const cp = await start(
      {
        SANDBOX_DEFAULT_POLICY: JSON.stringify({
          sideEffect: "mutating",
          approval: "always",
          filesystem: { persist: ["."] },
        }),
      },
      sandbox,
    );
    const pending = await cp.call("agent", "POST", "/v1/execute", {
      language: "javascript",
      code: "env",
      env: { A: "1" },
    });
    expect(pending.status).toBe(202);
    expect(pending.body).toMatchObject({ status: "pending_approval", approval: { id: expect.any(String) } });
    const listed = await cp.call("approver", "GET", "/v1/approvals?status=pending");
    expect(listed.body.approvals?.[0]?.subject).toMatchObject({ kind: "adhoc", code: "env", envNames: ["A"] });
    await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, { reason: "fine" });
    const record = await waitFor(cp, "agent", pending.body.id ?? "");
    expect(record).toMatchObject({
      status: "completed",
      kind: "adhoc",
      result: { id: pending.body.id, stdout: '{"A":"1"}' },
    });
    expect(eventTypes(record)).toContain("approval_approved");
    expect(sandbox.runs).toBe(1);
  });
});

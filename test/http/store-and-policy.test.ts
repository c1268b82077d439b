/**
 * Fail closed on the store (cannot open, or a write fails mid-pipeline: nothing runs), and the
 * configurable default policy for ad-hoc POST /v1/execute.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ServiceError } from "../../src/errors.js";
import { silentLogger } from "../../src/logger.js";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import type { ExecuteOptions, ExecutionRequest, ExecutionResult } from "../../src/sandbox/types.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { ControlStore } from "../../src/store/store.js";
import { type ControlPlane, eventTypes, startControlPlane, waitFor } from "./control-plane.js";
import { ScriptedSandbox } from "./scripted-sandbox.js";

class CountingSandbox extends ScriptedSandbox {
  runs = 0;
  override execute(request: ExecutionRequest): Promise<ExecutionResult> {
    this.runs++;
    return super.execute(request);
  }
}

/** The files this file's tests make outside a control plane's data directory (removed with it). */
const root = mkdtempSync(join(tmpdir(), "store-and-policy-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

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
    const blocker = join(root, "not-a-directory");
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

describe("durability of a run's records (SANDBOX_STORE_SYNC=full)", () => {
  /** A store on a file whose WAL fsyncs are logged and take 30 ms, as a slow disk would. */
  function loggedStore(log: string[]) {
    let n = 0;
    const syncFile = async () => {
      const round = ++n;
      log.push(`fsync ${round} started`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      log.push(`fsync ${round} done`);
    };
    const path = join(mkdtempSync(join(root, "store-")), "store.db");
    return () => SqliteStore.open({ path, logger: silentLogger(), syncFile });
  }

  /** Logs its run, and makes one HTTP call first when the code says "call". */
  class LoggingSandbox extends CountingSandbox {
    constructor(private readonly log: string[]) {
      super();
    }
    override async execute(request: ExecutionRequest, options?: ExecuteOptions): Promise<ExecutionResult> {
      this.log.push("run");
      if (request.code === "call" && options?.effects) {
        const controller = new AbortController();
        const reply = await options.effects.http(
          { method: "GET", url: "http://example.test/", headers: [], redirect: "follow" },
          { signal: controller.signal, pauseDeadline: () => () => undefined },
        );
        this.log.push(`call answered ${reply.ok ? "ok" : reply.code}`);
      }
      return super.execute({ ...request, code: "ok" });
    }
  }

  it("starts the sandbox without waiting for the disk, and answers only after an fsync that follows the result", async () => {
    const log: string[] = [];
    const cp = await start({}, new LoggingSandbox(log), loggedStore(log));
    log.length = 0;
    const run = await cp.call("agent", "POST", "/v1/execute", { language: "javascript", code: "ok" });
    expect(run.status).toBe(200);
    expect(log).toEqual(["run", "fsync 1 started", "fsync 1 done"]);
    expect(eventTypes(await waitFor(cp, "agent", String(run.body.id)))).toEqual([
      "received",
      "policy_decision",
      "secret_scan",
      "sandbox_started",
      "completed",
    ]);
  });

  it("makes the record durable before the guest's first call is handled", async () => {
    const log: string[] = [];
    const cp = await start({}, new LoggingSandbox(log), loggedStore(log));
    log.length = 0;
    const run = await cp.call("agent", "POST", "/v1/execute", { language: "javascript", code: "call" });
    expect(run.status).toBe(200);
    expect(log).toEqual([
      "run",
      "fsync 1 started",
      "fsync 1 done",
      "call answered EGRESS_DENIED",
      "fsync 2 started",
      "fsync 2 done",
    ]);
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

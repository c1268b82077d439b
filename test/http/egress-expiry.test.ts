/**
 * An effect approval nobody decides expires: the guest's call ends with APPROVAL_EXPIRED in its own
 * language, the run goes on and completes, and nothing was sent. (A server of its own: a short TTL.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeResolver, guardedDialer, type LocalServer, localServer } from "../../src/egress/test-harness.js";
import { silentLogger } from "../../src/logger.js";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { type ControlPlane, eventTypes, startControlPlane } from "./control-plane.js";

const HOST = "api.example.test";
let upstream: LocalServer;
let cp: ControlPlane;

beforeAll(async () => {
  upstream = await localServer((_req, res) => {
    res.writeHead(200).end("sent");
  });
  cp = await startControlPlane(
    { SANDBOX_APPROVAL_TTL_MS: "1000", SANDBOX_APPROVAL_SWEEP_MS: "100" },
    {
      createSandboxes: async () =>
        new SandboxRegistry([await WasmSandbox.create({ logger: silentLogger(), workers: 1, languages: ["python"] })]),
      egress: { resolver: fakeResolver({ [HOST]: ["127.0.0.1"] }).resolve, dialer: guardedDialer().dial },
    },
  );
  const put = await cp.call("admin", "PUT", "/v1/tools/fetch", {
    language: "python",
    code: [
      "import json, sys",
      "from sandbox import http",
      "try:",
      "    http.get(json.load(sys.stdin)['url'])",
      "    print('SENT')",
      "except http.EgressError as e:",
      "    print('CODE', e.code)",
      "print('still running')",
    ].join("\n"),
    description: "fetches behind an approval",
    policy: {
      sideEffect: "read-only",
      approval: "on-effect",
      limits: { timeoutMs: 500 },
      egress: { allow: [{ host: HOST, allowPrivate: true }] },
    },
  });
  expect(put.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await cp?.close();
  await upstream?.close();
});

describe("an effect approval nobody decides", () => {
  it("expires: the guest gets APPROVAL_EXPIRED (its 500 ms limit paused meanwhile) and the run completes", async () => {
    const { status, body } = await cp.call("agent", "POST", "/v1/tools/fetch/invoke", {
      input: { url: `http://${HOST}:${upstream.port}/x` },
    });
    expect(status).toBe(200);
    expect(body.stdout).toBe("CODE APPROVAL_EXPIRED\nstill running\n");
    expect(body.exitCode).toBe(0);
    expect(upstream.seen).toHaveLength(0);
    const record = (await cp.call("agent", "GET", `/v1/executions/${body.id}`)).body;
    expect(eventTypes(record)).toEqual(expect.arrayContaining(["approval_requested", "approval_expired", "effect"]));
    const approvals = (await cp.call("approver", "GET", "/v1/approvals?kind=effect")).body.approvals ?? [];
    expect(approvals.map((a) => a.status)).toEqual(["expired"]);
  }, 30_000);
});

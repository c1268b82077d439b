import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "../../src/alerts/alert.js";
import { verifySignature } from "../../src/alerts/signature.js";
import { AUTH, postJson, startTestServer, type TestServer } from "../support/server.js";
import { scriptedSandboxes } from "./scripted-sandbox.js";

const SECRET = "alert-secret-0123456789";

/** A local ops receiver: verifies every signature over the raw body, fails the first delivery. */
const received: Array<{ alert: Alert; verified: boolean }> = [];
let deliveries = 0;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    deliveries++;
    const raw = Buffer.concat(chunks);
    if (deliveries === 1) {
      res.statusCode = 503;
      res.end();
      return;
    }
    const verified = verifySignature(raw, req.headers["x-sandbox-signature"] as string | undefined, SECRET);
    received.push({ alert: JSON.parse(raw.toString("utf8")) as Alert, verified });
    res.statusCode = verified ? 204 : 401;
    res.end();
  });
});

let server: TestServer;
beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  server = await startTestServer(
    {
      SANDBOX_ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/ops`,
      SANDBOX_ALERT_WEBHOOK_SECRET: SECRET,
      SANDBOX_ALERT_RETRY_BASE_MS: "20",
      SANDBOX_ALERT_LIMIT_HITS: "3",
      SANDBOX_TRUSTED_PROXIES: "127.0.0.1",
    },
    scriptedSandboxes().deps,
  );
});
afterAll(async () => {
  await server?.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

async function alertOfType(type: string, timeoutMs = 3000): Promise<{ alert: Alert; verified: boolean }> {
  const started = Date.now();
  for (;;) {
    const found = received.find((r) => r.alert.type === type);
    if (found) return found;
    if (Date.now() - started > timeoutMs) throw new Error(`no ${type} alert within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const execute = (code: string, headers: Record<string, string> = {}) =>
  postJson(`${server.url}/v1/execute`, { language: "javascript", code }, headers);

describe("ops alert webhook", () => {
  it("reports a sandbox violation, signed, with the request's correlation ids (after a retry)", async () => {
    const { status, body } = await execute("violation", { "x-request-id": "alert-violation-1" });
    expect(status).toBe(200);
    expect(body.error?.code).toBe("SANDBOX_VIOLATION");
    const { alert, verified } = await alertOfType("sandbox.violation");
    expect(verified).toBe(true);
    expect(deliveries).toBeGreaterThanOrEqual(2);
    expect(alert).toMatchObject({
      v: 1,
      type: "sandbox.violation",
      severity: "critical",
      requestId: "alert-violation-1",
      keyName: "default",
      details: { executionId: body.id, language: "javascript", sandbox: "wasm" },
    });
    expect(alert.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("reports repeated limit hits from one key, once", async () => {
    for (let i = 0; i < 4; i++) expect((await execute("timeout")).body.error?.code).toBe("TIMEOUT");
    const { alert, verified } = await alertOfType("limits.repeated");
    expect(verified).toBe(true);
    expect(alert).toMatchObject({ keyName: "default", details: { hits: { TIMEOUT: 3 } } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received.filter((r) => r.alert.type === "limits.repeated")).toHaveLength(1);
  });

  it("reports a brute-force lockout with the client address, and never a tried key", async () => {
    const attacker = { "x-forwarded-for": "203.0.113.99" };
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${server.url}/v1/runtimes`, {
        headers: { ...attacker, authorization: `Bearer guess-number-${i}-xxxxxxxx` },
      });
      expect(r.status).toBe(401);
    }
    const { alert, verified } = await alertOfType("auth.lockout");
    expect(verified).toBe(true);
    expect(alert).toMatchObject({ type: "auth.lockout", client: "203.0.113.99" });
    expect(JSON.stringify(received)).not.toContain("guess-number");
    expect((await fetch(`${server.url}/v1/runtimes`, { headers: { ...attacker, ...AUTH } })).status).toBe(429);
  });
});

import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../logger.js";
import type { Alert } from "./alert.js";
import { SIGNATURE_HEADER, signBody, verifySignature } from "./signature.js";
import { WebhookAlertSink } from "./webhook-sink.js";

const SECRET = "test-secret-0123456789";

interface Received {
  readonly body: string;
  readonly signature: string | undefined;
  readonly id: string | undefined;
}

async function receiver(statuses: number[]) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({
        body,
        signature: req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined,
        id: req.headers["x-sandbox-alert-id"] as string | undefined,
      });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function until(predicate: () => boolean, timeoutMs = 3000) {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A sink posting to `url` with the test secret, a 1 s timeout and no logging. */
function sinkTo(url: string, options: { maxAttempts: number; retryBaseMs: number; closeGraceMs?: number }) {
  return new WebhookAlertSink({ url, secret: SECRET, timeoutMs: 1000, logger: silentLogger(), ...options });
}

describe("signatures", () => {
  it("verifies only the exact body with the right secret", () => {
    const sig = signBody('{"a":1}', SECRET);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature('{"a":1}', sig, SECRET)).toBe(true);
    expect(verifySignature('{"a":2}', sig, SECRET)).toBe(false);
    expect(verifySignature('{"a":1}', sig, "another-secret-xxxxxx")).toBe(false);
    expect(verifySignature('{"a":1}', undefined, SECRET)).toBe(false);
    expect(verifySignature('{"a":1}', "sha256=00", SECRET)).toBe(false);
  });
});

describe("WebhookAlertSink", () => {
  it("posts a signed alert without blocking notify, retrying 5xx with backoff", async () => {
    const r = await receiver([503, 500]);
    cleanup.push(r.close);
    const sink = sinkTo(r.url, { maxAttempts: 4, retryBaseMs: 20 });
    cleanup.push(() => sink.close());
    sink.notify({ type: "auth.lockout", severity: "warning", summary: "x", client: "10.0.0.1" });
    await Promise.resolve();
    expect(r.received).toHaveLength(0);
    await until(() => r.received.length === 3);
    const ids = new Set(r.received.map((x) => x.id));
    expect(ids.size).toBe(1);
    for (const delivery of r.received) expect(verifySignature(delivery.body, delivery.signature, SECRET)).toBe(true);
    const alert = JSON.parse(r.received[2]?.body ?? "{}") as Alert;
    expect(alert).toMatchObject({ v: 1, type: "auth.lockout", client: "10.0.0.1", service: "inline-sandbox" });
    expect(alert.id).toBe([...ids][0]);
  });

  it("gives up on a 4xx without retrying, and stops after maxAttempts", async () => {
    const r = await receiver([400, 500, 500, 500, 500]);
    cleanup.push(r.close);
    const sink = sinkTo(r.url, { maxAttempts: 2, retryBaseMs: 10 });
    sink.notify({ type: "sandbox.violation", severity: "critical", summary: "first" });
    await until(() => r.received.length === 1);
    sink.notify({ type: "sandbox.violation", severity: "critical", summary: "second" });
    await until(() => r.received.length === 3);
    await sink.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.received).toHaveLength(3);
  });

  it("close() ends a backoff at once: no further attempt, no wait for the retry", async () => {
    const r = await receiver([503, 503, 503]);
    cleanup.push(r.close);
    const sink = sinkTo(r.url, { maxAttempts: 3, retryBaseMs: 60_000, closeGraceMs: 50 });
    sink.notify({ type: "auth.lockout", severity: "warning", summary: "x" });
    await until(() => r.received.length === 1);
    const started = Date.now();
    await sink.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.received).toHaveLength(1);
  });
});

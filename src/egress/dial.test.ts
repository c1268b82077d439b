import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDialer } from "./dial.js";
import { testSession } from "./test-harness.js";

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const OPENSSL = hasOpenssl();
let dir = "";
let cert = "";
let server: Server | undefined;
let port = 0;
const servernames: Array<string | false | null> = [];

beforeAll(async () => {
  if (!OPENSSL) return;
  dir = mkdtempSync(join(tmpdir(), "egress-tls-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=api.test",
      "-addext",
      "subjectAltName=DNS:api.test",
    ],
    { stdio: "ignore" },
  );
  cert = readFileSync(join(dir, "cert.pem"), "utf8");
  server = createServer({ key: readFileSync(join(dir, "key.pem")), cert }, (req, res) => {
    servernames.push((req.socket as TLSSocket).servername);
    res.end(`tls ok ${req.headers.host}`);
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  port = (s.address() as AddressInfo).port;
});

afterAll(async () => {
  const s = server;
  if (s) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!OPENSSL)("https through the pinned address (needs the openssl CLI to make a test certificate)", () => {
  it("connects to the checked IP and verifies the certificate against the URL's host, sent as SNI", async () => {
    const { session, dialer } = testSession({
      policy: { allow: [{ host: `api.test:${port}`, allowPrivate: true }] },
      names: { "api.test": ["127.0.0.1"] },
      dialerOptions: { ca: cert },
    });
    const outcome = await session.request({ url: `https://api.test:${port}/x` });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(Buffer.from(outcome.response.body).toString()).toBe(`tls ok api.test:${port}`);
    expect(dialer.attempts[0]).toMatchObject({ address: "127.0.0.1", hostname: "api.test", tls: true });
    expect(servernames.at(-1)).toBe("api.test");
  });

  it("refuses a certificate it cannot verify", async () => {
    const { session } = testSession({
      policy: { allow: [{ host: `api.test:${port}`, allowPrivate: true }] },
      names: { "api.test": ["127.0.0.1"] },
    });
    const outcome = await session.request({ url: `https://api.test:${port}/x` });
    expect(!outcome.ok && outcome.error).toMatchObject({
      code: "EGRESS_CONNECT_FAILED",
      message: expect.stringContaining("TLS"),
    });
  });

  it("refuses a certificate for another name at the same address", async () => {
    const { session } = testSession({
      policy: { allow: [{ host: `other.test:${port}`, allowPrivate: true }] },
      names: { "other.test": ["127.0.0.1"] },
      dialerOptions: { ca: cert },
    });
    const outcome = await session.request({ url: `https://other.test:${port}/x` });
    expect(!outcome.ok && outcome.error).toMatchObject({
      code: "EGRESS_CONNECT_FAILED",
      message: expect.stringContaining("TLS"),
    });
  });
});

describe("createDialer", () => {
  it("refuses to be given a name instead of an address", async () => {
    const dial = createDialer();
    const controller = new AbortController();
    await expect(
      dial({ address: "localhost", family: 4, port: 1, hostname: "localhost", tls: false }, controller.signal),
    ).rejects.toThrow(/name instead of an address/);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(
      createDialer()({ address: "127.0.0.1", family: 4, port: 1, hostname: "x", tls: false }, controller.signal),
    ).rejects.toThrow("stop");
  });
});

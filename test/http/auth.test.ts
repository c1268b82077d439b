import { createHash } from "node:crypto";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, postJson, startTestServer, TEST_API_KEY, type TestServer } from "../support/server.js";
import { rawExchange } from "./raw-http.js";
import { scriptedSandboxes } from "./scripted-sandbox.js";

const APPROVER_KEY = "approver-key-0123456789";
const HASHED_KEY = "hashed-key-0123456789abc";
const dir = mkdtempSync(join(tmpdir(), "auth-test-"));
const keysFile = join(dir, "keys.json");
writeFileSync(
  keysFile,
  JSON.stringify([
    { name: "approver", key: APPROVER_KEY, scopes: ["approve"] },
    { name: "hashed", keySha256: createHash("sha256").update(HASHED_KEY).digest("hex"), scopes: ["execute"] },
  ]),
);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(
    { SANDBOX_API_KEYS_FILE: keysFile, SANDBOX_AUTH_LOCKOUT_MS: "1000", SANDBOX_TRUSTED_PROXIES: "127.0.0.1" },
    scriptedSandboxes().deps,
  );
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const runtimes = (headers: Record<string, string>) => fetch(`${server.url}/v1/runtimes`, { headers });
const withoutRequestId = (body: { error: { requestId: string } }) => ({ ...body.error, requestId: undefined });

describe("authentication", () => {
  it.each([
    ["a missing header", {}],
    ["an empty header", { authorization: "" }],
    ["a lowercase scheme", { authorization: `bearer ${TEST_API_KEY}` }],
    ["the scheme with a trailing space and no key", { authorization: "Bearer " }],
    ["two spaces before the key", { authorization: `Bearer  ${TEST_API_KEY}` }],
    ["Basic credentials", { authorization: `Basic ${Buffer.from(`user:${TEST_API_KEY}`).toString("base64")}` }],
    ["an unknown key", { authorization: "Bearer not-a-key-of-this-server" }],
    ["a known key with a suffix", { authorization: `Bearer ${TEST_API_KEY}x` }],
    [
      "the SHA-256 instead of the key",
      { authorization: `Bearer ${createHash("sha256").update(HASHED_KEY).digest("hex")}` },
    ],
  ])("answers 401 for %s, with the same body every time", async (_name, headers) => {
    const response = await runtimes({ ...headers, "x-forwarded-for": `198.51.100.${Math.floor(Math.random() * 200)}` });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="inline-sandbox"');
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.requestId).toBe(response.headers.get("x-request-id"));
    expect(withoutRequestId(body)).toEqual({
      code: "UNAUTHORIZED",
      message: "A valid API key is required: send Authorization: Bearer <key>.",
      requestId: undefined,
    });
  });

  it("answers 401 for a trailing space after an unknown key sent byte for byte", async () => {
    const { data } = await rawExchange(
      server.url,
      `GET /v1/runtimes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-key-0123456789 \r\nConnection: close\r\n\r\n`,
    );
    expect(data).toMatch(/^HTTP\/1\.1 401 /);
  });

  it("accepts the single key, a keySha256 entry, and applies scopes", async () => {
    expect((await runtimes(AUTH)).status).toBe(200);
    const hashed = await postJson(
      `${server.url}/v1/execute`,
      { language: "javascript", code: "ok" },
      { authorization: `Bearer ${HASHED_KEY}` },
    );
    expect(hashed.status).toBe(200);
    expect((await runtimes({ authorization: `Bearer ${APPROVER_KEY}` })).status).toBe(200);
    const forbidden = await postJson(
      `${server.url}/v1/execute`,
      { language: "javascript", code: "ok" },
      { authorization: `Bearer ${APPROVER_KEY}` },
    );
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error?.code).toBe("FORBIDDEN");
  });

  it("records the key name, never the key, in the logs", async () => {
    await runtimes({ ...AUTH, "x-request-id": "auth-log-1" });
    const line = server.logs.find((l) => l.requestId === "auth-log-1" && l.msg === "request finished");
    expect(line).toMatchObject({ key: "default", status: 200 });
    expect(JSON.stringify(server.logs)).not.toContain(TEST_API_KEY);
    expect(JSON.stringify(server.logs)).not.toContain(APPROVER_KEY);
  });

  it("leaves health, readiness and the OpenAPI document open", async () => {
    for (const path of ["/healthz", "/readyz", "/openapi.json"])
      expect((await fetch(`${server.url}${path}`)).status).toBe(200);
  });
});

describe("brute-force lockout", () => {
  it("blocks a client after 10 failures with 429 and Retry-After, even for a valid key, then lets it back", async () => {
    const attacker = { "x-forwarded-for": "203.0.113.77" };
    for (let i = 0; i < 10; i++)
      expect((await runtimes({ ...attacker, authorization: `Bearer guess-${i}-0123456789` })).status).toBe(401);
    const blocked = await runtimes({ ...attacker, ...AUTH });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get("retry-after")).toBe("1");
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe("AUTH_LOCKED_OUT");
    // Another client behind the same trusted proxy is unaffected.
    expect((await runtimes({ "x-forwarded-for": "203.0.113.78", ...AUTH })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await runtimes({ ...attacker, ...AUTH })).status).toBe(200);
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    const untrusted = await startTestServer(
      { SANDBOX_AUTH_MAX_FAILURES: "3", SANDBOX_AUTH_LOCKOUT_MS: "60000" },
      scriptedSandboxes().deps,
    );
    try {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${untrusted.url}/v1/runtimes`, {
          headers: { "x-forwarded-for": `192.0.2.${i}` },
        });
        expect(response.status).toBe(401);
      }
      const blocked = await fetch(`${untrusted.url}/v1/runtimes`, {
        headers: { ...AUTH, "x-forwarded-for": "192.0.2.200" },
      });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(55);
    } finally {
      await untrusted.close();
    }
  });
});

describe("servers without a configured key", () => {
  it("refuses every request with a clear 401 and warns at startup", async () => {
    const bare = await startTestServer({ SANDBOX_API_KEY: "" }, scriptedSandboxes().deps);
    try {
      const response = await fetch(`${bare.url}/v1/runtimes`, { headers: AUTH });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
        "no API key configured",
      );
      expect(bare.logs.some((l) => l.level === 40 && String(l.msg).includes("no API key is configured"))).toBe(true);
    } finally {
      await bare.close();
    }
  });

  it("serves without a key only with --no-auth, and says so loudly", async () => {
    const open = await startTestServer({}, scriptedSandboxes().deps, ["--no-auth"]);
    try {
      const response = await fetch(`${open.url}/v1/runtimes`);
      expect(response.status).toBe(200);
      // Rate limits still apply, per client address.
      expect(response.headers.get("ratelimit-limit")).toBe("100000");
      expect(open.logs.some((l) => l.level === 40 && String(l.msg).includes("AUTHENTICATION IS DISABLED"))).toBe(true);
    } finally {
      await open.close();
    }
  });

  it("generates a key on first run into the data directory (mode 0600), shows it once, and reuses it", async () => {
    const dataDir = join(dir, "data");
    const first = await startTestServer(
      { SANDBOX_API_KEY: "", SANDBOX_GENERATE_API_KEY: "true", SANDBOX_DATA_DIR: dataDir },
      scriptedSandboxes().deps,
    );
    const generated = first.generatedKey;
    try {
      expect(generated?.key).toMatch(/^isk_[A-Za-z0-9_-]{43}$/);
      expect(generated?.path).toBe(join(dataDir, "api-key"));
      expect(statSync(join(dataDir, "api-key")).mode & 0o777).toBe(0o600);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(JSON.stringify(first.logs)).not.toContain(generated?.key);
      const ok = await fetch(`${first.url}/v1/runtimes`, { headers: { authorization: `Bearer ${generated?.key}` } });
      expect(ok.status).toBe(200);
    } finally {
      await first.close();
    }
    const second = await startTestServer(
      { SANDBOX_API_KEY: "", SANDBOX_GENERATE_API_KEY: "true", SANDBOX_DATA_DIR: dataDir },
      scriptedSandboxes().deps,
    );
    try {
      expect(second.generatedKey).toBeUndefined();
      const ok = await fetch(`${second.url}/v1/runtimes`, { headers: { authorization: `Bearer ${generated?.key}` } });
      expect(ok.status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

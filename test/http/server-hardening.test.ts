import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { postJson, startTestServer, type TestServer } from "../support/server.js";
import { rawExchange } from "./raw-http.js";
import { scriptedSandboxes } from "./scripted-sandbox.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(
    { SANDBOX_HEADERS_TIMEOUT_MS: "400", SANDBOX_REQUEST_TIMEOUT_MS: "1000", SANDBOX_MAX_HEADER_BYTES: "4096" },
    scriptedSandboxes().deps,
  );
});
afterAll(() => server?.close());

describe("server timeouts and limits", () => {
  it("cuts off a client that sends its headers too slowly (408, connection closed)", async () => {
    const { data, closedAfterMs } = await rawExchange(server.url, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 4000);
    expect(data).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).not.toBeNull();
    expect(closedAfterMs ?? Infinity).toBeGreaterThanOrEqual(350);
    expect(closedAfterMs ?? Infinity).toBeLessThan(2000);
  });

  it("refuses headers larger than the limit with 431", async () => {
    const big = "a".repeat(8192);
    const { data } = await rawExchange(server.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`);
    expect(data).toMatch(/^HTTP\/1\.1 431 /);
    expect(data).not.toMatch(/node_modules|\/work\//);
  });

  it("does not cut off a response that takes longer than the request timeout (it covers receiving only)", async () => {
    const response = await postJson(`${server.url}/v1/execute`, { language: "javascript", code: "sleep:1300" });
    expect(response.status).toBe(200);
  });

  it("still serves a normal request on the same server", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});

describe("hardening configuration", () => {
  it.each([
    [{ SANDBOX_CORS_ORIGINS: "*" }, "SANDBOX_CORS_ORIGINS"],
    [{ SANDBOX_CORS_ORIGINS: "null" }, "SANDBOX_CORS_ORIGINS"],
    [{ SANDBOX_CORS_ORIGINS: "https://ok.example.com/path" }, "SANDBOX_CORS_ORIGINS"],
    [{ SANDBOX_TRUSTED_PROXIES: "10.0.0.0/33" }, "SANDBOX_TRUSTED_PROXIES"],
    [{ SANDBOX_API_KEY: "short" }, "SANDBOX_API_KEY"],
    [{ SANDBOX_HEADERS_TIMEOUT_MS: "5000", SANDBOX_REQUEST_TIMEOUT_MS: "1000" }, "SANDBOX_HEADERS_TIMEOUT_MS"],
    [{ SANDBOX_ALERT_WEBHOOK_URL: "https://hooks.example.com/x" }, "SANDBOX_ALERT_WEBHOOK_SECRET"],
    [
      { SANDBOX_ALERT_WEBHOOK_URL: "ftp://hooks.example.com/x", SANDBOX_ALERT_WEBHOOK_SECRET: "0123456789abcdef" },
      "SANDBOX_ALERT_WEBHOOK_URL",
    ],
  ])("refuses %o", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });

  it("refuses --no-auth together with a configured key", () => {
    expect(() => loadConfig({ SANDBOX_API_KEY: "0123456789abcdef" }, ["--no-auth"])).toThrow("--no-auth");
  });

  it("never echoes the API key in a configuration error", () => {
    const secret = "has spaces but is long enough";
    expect(() => loadConfig({ SANDBOX_API_KEY: secret })).toThrow(ConfigError);
    try {
      loadConfig({ SANDBOX_API_KEY: secret });
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });
});

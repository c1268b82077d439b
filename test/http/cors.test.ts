import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, startTestServer, type TestServer } from "../support/server.js";
import { scriptedSandboxes } from "./scripted-sandbox.js";

const ALLOWED = "https://app.example.com";
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(
    { SANDBOX_CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` },
    scriptedSandboxes().deps,
  );
});
afterAll(() => server?.close());

const preflight = (origin: string) =>
  fetch(`${server.url}/v1/execute`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });

describe("CORS", () => {
  it("answers a preflight from an allowed origin with that exact origin, never * or credentials", async () => {
    const response = await preflight(ALLOWED);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(response.headers.get("vary")).toContain("Origin");
  });

  it("refuses a preflight and a request from an unknown origin, without CORS headers", async () => {
    const pre = await preflight("https://evil.example.net");
    expect(pre.status).toBe(403);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    expect(pre.headers.get("vary")).toContain("Origin");
    const actual = await fetch(`${server.url}/v1/runtimes`, {
      headers: { ...AUTH, origin: "https://evil.example.net" },
    });
    expect(actual.status).toBe(403);
    expect(actual.headers.get("access-control-allow-origin")).toBeNull();
    expect(((await actual.json()) as { error: { code: string } }).error.code).toBe("ORIGIN_NOT_ALLOWED");
    const nullOrigin = await fetch(`${server.url}/v1/runtimes`, { headers: { ...AUTH, origin: "null" } });
    expect(nullOrigin.status).toBe(403);
  });

  it("labels an allowed origin's response and exposes the correlation and rate-limit headers", async () => {
    const response = await fetch(`${server.url}/v1/runtimes`, { headers: { ...AUTH, origin: ALLOWED } });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(response.headers.get("access-control-expose-headers")).toContain("ratelimit-remaining");
    expect(response.headers.get("vary")).toContain("Origin");
  });

  it("varies on Origin even when no Origin was sent", async () => {
    const response = await fetch(`${server.url}/v1/runtimes`, { headers: AUTH });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("vary")).toContain("Origin");
  });
});

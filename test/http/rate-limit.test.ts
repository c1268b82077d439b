import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH, postJson, startTestServer, type TestServer } from "../support/server.js";
import { scriptedSandboxes } from "./scripted-sandbox.js";

const OTHER_KEY = "other-key-0123456789abcdef";
const dir = mkdtempSync(join(tmpdir(), "rate-test-"));
const keysFile = join(dir, "keys.json");
writeFileSync(keysFile, JSON.stringify([{ name: "other", key: OTHER_KEY, scopes: ["execute"] }]));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(
    {
      SANDBOX_API_KEYS_FILE: keysFile,
      // 2 requests per 2 s: one token back every second.
      SANDBOX_RATE_LIMIT_REQUESTS: "2",
      SANDBOX_RATE_LIMIT_WINDOW_MS: "2000",
    },
    scriptedSandboxes().deps,
  );
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const limits = (r: Response) => ({
  limit: r.headers.get("ratelimit-limit"),
  remaining: r.headers.get("ratelimit-remaining"),
  reset: r.headers.get("ratelimit-reset"),
  policy: r.headers.get("ratelimit-policy"),
});
const get = (path: string, headers: Record<string, string> = AUTH) => fetch(`${server.url}${path}`, { headers });

describe("per-key rate limits (draft-ietf-httpapi-ratelimit-headers-06)", () => {
  it("counts down across the window, refuses with 429 + Retry-After, and refills", async () => {
    const first = await get("/v1/runtimes");
    expect(first.status).toBe(200);
    expect(limits(first)).toEqual({ limit: "2", remaining: "1", reset: "1", policy: "2;w=2" });
    // Error responses carry the fields too.
    const second = await get("/v1/no-such-route");
    expect(second.status).toBe(404);
    expect(limits(second)).toEqual({ limit: "2", remaining: "0", reset: "2", policy: "2;w=2" });
    const refused = await get("/v1/runtimes");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(limits(refused)).toEqual({ limit: "2", remaining: "0", reset: "2", policy: "2;w=2" });
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");

    // Another key has its own bucket.
    expect(limits(await get("/v1/runtimes", { authorization: `Bearer ${OTHER_KEY}` })).remaining).toBe("1");

    await new Promise((resolve) => setTimeout(resolve, 1050));
    const refilled = await get("/v1/runtimes");
    expect(refilled.status).toBe(200);
    expect(limits(refilled)).toEqual({ limit: "2", remaining: "0", reset: "2", policy: "2;w=2" });
  });

  it("does not rate-limit or label unauthenticated probes", async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get("ratelimit-limit")).toBeNull();
  });
});

describe("per-key concurrency cap", () => {
  it("runs one at a time, queues one, and refuses the next with 429 TOO_MANY_CONCURRENT", async () => {
    const scripted = scriptedSandboxes();
    const capped = await startTestServer(
      { SANDBOX_API_KEYS_FILE: keysFile, SANDBOX_MAX_CONCURRENT_PER_KEY: "1", SANDBOX_MAX_QUEUED_PER_KEY: "1" },
      scripted.deps,
    );
    try {
      const run = (key: Record<string, string>) =>
        postJson(`${capped.url}/v1/execute`, { language: "javascript", code: "sleep:300" }, key);
      const first = run(AUTH);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = run(AUTH);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const third = await run(AUTH);
      expect(third.status).toBe(429);
      expect(third.body.error?.code).toBe("TOO_MANY_CONCURRENT");
      expect(third.headers.get("retry-after")).toBe("1");
      // Another key has its own lane and runs alongside.
      const other = await run({ authorization: `Bearer ${OTHER_KEY}` });
      expect(other.status).toBe(200);
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
      expect(scripted.sandbox.maxRunning).toBe(2);
    } finally {
      await capped.close();
    }
  });
});

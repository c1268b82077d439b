/**
 * Dry runs and secrets with the real JavaScript runtime: a dry run releases no secret, persists no
 * file, performs no egress and returns the manifest of what would have happened, leaving no trace of
 * its data in the store; a real run gets the secret, but its value never appears in the response,
 * the stored record, the store file or the logs.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.js";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { type ControlPlane, createDataDir, eventTypes, startControlPlane, waitFor } from "./control-plane.js";

const TOKEN = `tok-${randomBytes(12).toString("hex")}`;
const MARKER = `file-marker-${randomBytes(8).toString("hex")}`;
const CODE = [
  'const fs = require("fs");',
  "const token = process.env.API_TOKEN;",
  "console.log('token is', typeof token);",
  "if (token) console.log('leaking', token, Buffer.from(token).toString('base64'));",
  "fs.mkdirSync('out', { recursive: true });",
  "const input = JSON.parse(fs.readFileSync(0, 'utf8'));",
  "fs.writeFileSync('out/sent.json', JSON.stringify({ marker: input.marker, token: token || null }));",
  "fs.writeFileSync('tmp.txt', 'scratch');",
].join("\n");
const NOTIFY = {
  language: "javascript",
  code: CODE,
  description: "posts a notification",
  policy: {
    sideEffect: "mutating",
    approval: "on-effect",
    secrets: ["API_TOKEN"],
    filesystem: { persist: ["out"] },
    network: {
      egress: [
        { host: "hooks.example.com", methods: ["POST"] },
        { urlPrefix: "https://api.example.com/v1/", methods: ["GET"] },
      ],
    },
  },
  mocks: [{ method: "POST", url: "https://hooks.example.com/notify", response: { status: 202, body: "queued" } }],
};

let cp: ControlPlane;
beforeAll(async () => {
  const dataDir = createDataDir();
  const secretsFile = join(dataDir, "secrets.json");
  writeFileSync(secretsFile, JSON.stringify({ API_TOKEN: TOKEN, UNUSED_SECRET: "unused-value-123" }), { mode: 0o600 });
  cp = await startControlPlane(
    { SANDBOX_SECRETS_FILE: secretsFile },
    {
      createSandboxes: async () =>
        new SandboxRegistry([
          await WasmSandbox.create({ logger: silentLogger(), workers: 1, languages: ["javascript"] }),
        ]),
    },
    dataDir,
  );
  expect((await cp.call("admin", "PUT", "/v1/tools/notify", NOTIFY)).status).toBe(201);
});
afterAll(() => cp?.close());

/** Every byte the store has on disk (the database and its write-ahead log). */
function storeBytes(): string {
  return readdirSync(cp.dataDir)
    .filter((f) => f.startsWith("inline-sandbox.db"))
    .map((f) => readFileSync(join(cp.dataDir, f)).toString("latin1"))
    .join("");
}

describe("dry run", () => {
  it("runs without approval, secrets, files or egress, and returns the manifest of effects", async () => {
    const { status, body } = await cp.call("agent", "POST", "/v1/tools/notify/invoke", {
      input: { marker: MARKER },
      dryRun: true,
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ exitCode: 0, dryRun: true, tool: { name: "notify", version: 1 }, files: [] });
    expect(body.stdout).toBe("token is undefined\n");
    expect(body.manifest).toEqual({
      files: [{ path: "out/sent.json", size: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }],
      secrets: [{ name: "API_TOKEN" }],
      // This guest makes no HTTP call; test/http/egress.test.ts covers calls answered by mocks.
      egress: [],
    });

    const record = (await cp.call("agent", "GET", `/v1/executions/${body.id}`)).body;
    expect(record).toMatchObject({ status: "completed", dryRun: true, result: { files: [], dryRun: true } });
    expect(eventTypes(record)).toEqual([
      "received",
      "policy_decision",
      "secret_scan",
      "sandbox_started",
      "effect",
      "effect",
      "completed",
    ]);
    expect(record.events?.find((e) => e.type === "sandbox_started")).toMatchObject({ dryRun: true, secrets: [] });
    for (const effect of record.events?.filter((e) => e.type === "effect") ?? []) expect(effect.performed).toBe(false);
    // The marker only ever existed in the input and in the file the dry run wrote: neither is stored.
    expect(storeBytes().includes(MARKER)).toBe(false);
  });
});

describe("secrets", () => {
  it("releases the secret to an approved real run and redacts its value everywhere", async () => {
    const pending = await cp.call("agent", "POST", "/v1/tools/notify/invoke", { input: { marker: MARKER } });
    expect(pending.status).toBe(202);
    await cp.call("approver", "POST", `/v1/approvals/${pending.body.approval?.id}/approve`, { reason: "ok" });
    const record = await waitFor(cp, "agent", pending.body.id ?? "");
    const result = record.result;
    expect(result?.stdout).toMatch(
      /^token is string\nleaking \[REDACTED:secret:API_TOKEN\] \[REDACTED:secret:API_TOKEN\]\n$/,
    );
    expect(result?.files).toEqual([
      {
        path: "out/sent.json",
        content: `{"marker":"${MARKER}","token":"[REDACTED:secret:API_TOKEN]"}`,
        encoding: "utf8",
        size: expect.any(Number),
      },
    ]);
    expect(record.events?.find((e) => e.type === "sandbox_started")).toMatchObject({ secrets: ["API_TOKEN"] });
    expect(record.events?.find((e) => e.type === "secret_scan" && e.phase === "output")).toMatchObject({
      redactions: { "secret:API_TOKEN": 3 },
    });
    const effects = record.events?.filter((e) => e.type === "effect") ?? [];
    expect(effects.map((e) => [e.effect, e.performed])).toEqual([
      ["file", true],
      ["secret", true],
    ]);

    const base64 = Buffer.from(TOKEN).toString("base64");
    for (const haystack of [JSON.stringify(record), storeBytes(), JSON.stringify(cp.server.logs)]) {
      expect(haystack.includes(TOKEN)).toBe(false);
      expect(haystack.includes(base64)).toBe(false);
    }
  });

  it("denies a tool whose policy names a secret the server does not have", async () => {
    const tool = { ...NOTIFY, policy: { ...NOTIFY.policy, secrets: ["MISSING_SECRET"] } };
    await cp.call("admin", "PUT", "/v1/tools/broken", tool);
    const { status, body } = await cp.call("agent", "POST", "/v1/tools/broken/invoke", { input: null, dryRun: true });
    expect(status).toBe(403);
    expect(body.error).toMatchObject({ code: "POLICY_DENIED", details: [{ path: "secrets:MISSING_SECRET" }] });
  });
});

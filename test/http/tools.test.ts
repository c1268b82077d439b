/**
 * The tool registry over HTTP with the real JavaScript runtime (QuickJS on wasm): versioning,
 * scopes, validation, input delivery (stdin and /workspace/input.json), persisted paths, and secret
 * scanning of tool code and input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.js";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { type ControlPlane, eventTypes, KEYS, startControlPlane } from "./control-plane.js";

const GH_PAT = ["ghp_", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5"].join("");
const ECHO = [
  'const fs = require("fs");',
  "const stdin = fs.readFileSync(0, 'utf8');",
  "const file = fs.readFileSync('/workspace/input.json', 'utf8');",
  "const input = JSON.parse(stdin);",
  "fs.mkdirSync('out', { recursive: true });",
  "fs.writeFileSync('out/result.json', JSON.stringify({ doubled: input.n * 2 }));",
  "fs.writeFileSync('scratch.txt', 'not persisted');",
  "console.log(stdin === file ? 'same' : 'different', stdin);",
].join("\n");
const ECHO_TOOL = {
  language: "javascript",
  code: ECHO,
  description: "doubles n",
  inputSchema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
  policy: { sideEffect: "read-only", approval: "never", filesystem: { persist: ["out"] } },
};

let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane(
    {},
    {
      createSandboxes: async () =>
        new SandboxRegistry([
          await WasmSandbox.create({ logger: silentLogger(), workers: 1, languages: ["javascript"] }),
        ]),
    },
  );
});
afterAll(() => cp?.close());

describe("registry", () => {
  it("versions a tool: new version on change, none on repeat; old versions stay readable", async () => {
    const first = await cp.call("admin", "PUT", "/v1/tools/echo", ECHO_TOOL);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      name: "echo",
      version: 1,
      language: "javascript",
      code: ECHO,
      createdBy: "admin",
    });
    expect(first.body.codeHash).toMatch(/^[0-9a-f]{64}$/);
    const repeat = await cp.call("admin", "PUT", "/v1/tools/echo", ECHO_TOOL);
    expect(repeat.status).toBe(200);
    expect(repeat.body.version).toBe(1);
    const changed = await cp.call("admin", "PUT", "/v1/tools/echo", { ...ECHO_TOOL, description: "doubles n, v2" });
    expect(changed.status).toBe(201);
    expect(changed.body.version).toBe(2);
    expect((await cp.call("agent", "GET", "/v1/tools/echo")).body).toMatchObject({
      version: 2,
      description: "doubles n, v2",
    });
    expect((await cp.call("agent", "GET", "/v1/tools/echo?version=1")).body).toMatchObject({
      version: 1,
      description: "doubles n",
    });
    expect((await cp.call("agent", "GET", "/v1/tools/echo?version=0")).status).toBe(400);
    const list = await cp.call("agent", "GET", "/v1/tools");
    expect(list.body.tools?.find((t) => t.name === "echo")).toMatchObject({ version: 2 });
    expect(JSON.stringify(list.body)).not.toContain("readFileSync");
    // The policy is stored with its defaults filled in.
    expect((await cp.call("agent", "GET", "/v1/tools/echo")).body).toMatchObject({
      policy: {
        v: 1,
        sideEffect: "read-only",
        approval: "never",
        filesystem: { persist: ["/workspace/out"] },
        secrets: [],
      },
    });
  });

  it("needs admin to register or delete", async () => {
    expect((await cp.call("agent", "PUT", "/v1/tools/mine", ECHO_TOOL)).body.error?.code).toBe("FORBIDDEN");
    expect((await cp.call("approver", "DELETE", "/v1/tools/echo")).body.error?.code).toBe("FORBIDDEN");
    expect((await cp.call("approver", "POST", "/v1/tools/echo/invoke", { input: { n: 1 } })).body.error?.code).toBe(
      "FORBIDDEN",
    );
  });

  it.each([
    ["a bad name", "/v1/tools/Bad%20Name", ECHO_TOOL, "name"],
    ["an unknown field", "/v1/tools/x", { ...ECHO_TOOL, owner: "me" }, "(body)"],
    ["an unknown language", "/v1/tools/x", { ...ECHO_TOOL, language: "cobol" }, "language"],
    [
      "a ceiling above the server maximum",
      "/v1/tools/x",
      { ...ECHO_TOOL, policy: { limits: { timeoutMs: 10_000_000 } } },
      "policy.limits.timeoutMs",
    ],
    ["an unknown policy field", "/v1/tools/x", { ...ECHO_TOOL, policy: { network: "anywhere" } }, "policy.network"],
    [
      "a mock outside the egress allowlist",
      "/v1/tools/x",
      {
        ...ECHO_TOOL,
        policy: { network: { egress: [{ host: "a.example.com" }] } },
        mocks: [{ url: "https://b.example.com/" }],
      },
      "mocks.0.url",
    ],
  ])("refuses %s with VALIDATION_FAILED naming it", async (_name, path, body, field) => {
    const { status, body: response } = await cp.call("admin", "PUT", path, body);
    expect(status).toBe(400);
    expect(response.error?.code).toBe("VALIDATION_FAILED");
    expect(response.error?.details?.map((d) => d.path)).toContain(field);
  });

  it("refuses to store code with a secret in it, naming rule and line, never the value", async () => {
    const { status, body } = await cp.call("admin", "PUT", "/v1/tools/leaky", {
      ...ECHO_TOOL,
      code: `// setup\nconst token = "${GH_PAT}";\n`,
    });
    expect(status).toBe(422);
    expect(body.error).toMatchObject({
      code: "SECRET_DETECTED",
      details: [{ path: "code:2:16", message: "github-token" }],
    });
    expect(JSON.stringify(body)).not.toContain(GH_PAT);
    expect((await cp.call("admin", "GET", "/v1/tools/leaky")).status).toBe(404);
  });
});

describe("invoke", () => {
  it("delivers the input on stdin and in /workspace/input.json, returns only persisted files, records the version", async () => {
    const { status, body } = await cp.call("agent", "POST", "/v1/tools/echo/invoke", { input: { n: 21 } });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      exitCode: 0,
      stdout: 'same {"n":21}\n',
      tool: { name: "echo", version: 2 },
      dryRun: false,
      files: [{ path: "out/result.json", content: '{"doubled":42}', encoding: "utf8" }],
    });
    const record = (await cp.call("agent", "GET", `/v1/executions/${body.id}`)).body;
    expect(record).toMatchObject({ kind: "tool", tool: { name: "echo", version: 2 }, status: "completed" });
    expect(eventTypes(record)).toEqual([
      "received",
      "policy_decision",
      "secret_scan",
      "sandbox_started",
      "effect",
      "completed",
    ]);
    expect(record.events?.[4]).toMatchObject({ effect: "file", path: "out/result.json", size: 14, performed: true });
  });

  it("checks the input against the tool's schema before anything runs", async () => {
    const { status, body } = await cp.call("agent", "POST", "/v1/tools/echo/invoke", { input: { n: "many" } });
    expect(status).toBe(400);
    expect(body.error?.code).toBe("VALIDATION_FAILED");
    expect(body.error?.details?.[0]?.path).toBe("input.n");
    expect((await cp.call("agent", "POST", "/v1/tools/echo/invoke", { input: { n: 1 }, extra: 1 })).status).toBe(400);
    const deep = await fetch(`${cp.server.url}/v1/tools/echo/invoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.agent}`, "content-type": "application/json" },
      body: `{"input":${"[".repeat(50_000)}${"]".repeat(50_000)}}`,
    });
    expect(deep.status).toBe(400);
    const refused = (await deep.json()) as { error: { details: Array<{ path: string; message: string }> } };
    expect(refused.error.details[0]).toMatchObject({ path: "input", message: expect.stringMatching(/deeper than 64/) });
  });

  it("refuses input with a secret in it, naming the input path", async () => {
    const { status, body, headers } = await cp.call("agent", "POST", "/v1/tools/echo/invoke", {
      input: { n: 1, auth: { token: GH_PAT } },
    });
    expect(status).toBe(422);
    expect(body.error?.details).toEqual([{ path: "input.auth.token:1:1", message: "github-token" }]);
    expect(JSON.stringify(body)).not.toContain(GH_PAT);
    const record = (await cp.call("agent", "GET", `/v1/executions/${headers.get("x-execution-id")}`)).body;
    expect(record).toMatchObject({ status: "denied", error: { code: "SECRET_DETECTED" } });
  });

  it("refuses an unknown tool, and a deleted one, with 404", async () => {
    expect((await cp.call("agent", "POST", "/v1/tools/nope/invoke", { input: 1 })).status).toBe(404);
    await cp.call("admin", "PUT", "/v1/tools/gone", ECHO_TOOL);
    expect((await cp.call("admin", "DELETE", "/v1/tools/gone")).status).toBe(204);
    expect((await cp.call("admin", "DELETE", "/v1/tools/gone")).status).toBe(404);
    expect((await cp.call("agent", "GET", "/v1/tools/gone")).status).toBe(404);
    expect((await cp.call("agent", "POST", "/v1/tools/gone/invoke", { input: { n: 1 } })).status).toBe(404);
    expect((await cp.call("agent", "GET", "/v1/tools/gone?version=1")).body.version).toBe(1);
  });

  it("answers 405 for a wrong method on a tool route", async () => {
    expect((await cp.call("agent", "PATCH", "/v1/tools/echo", {})).status).toBe(405);
  });
});

describe("openapi", () => {
  it("documents the control-plane routes and schemas", async () => {
    const doc = (await (await fetch(`${cp.server.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/tools/{name}",
        "/v1/tools/{name}/invoke",
        "/v1/approvals",
        "/v1/approvals/{id}/approve",
        "/v1/approvals/{id}/deny",
        "/v1/executions/{id}",
        "/v1/executions/{id}/events",
      ]),
    );
    expect(Object.keys(doc.components.schemas.ToolDefinition?.properties ?? {})).toEqual(
      expect.arrayContaining(["language", "code", "description", "inputSchema", "policy", "mocks"]),
    );
    expect(Object.keys(doc.components.schemas.ExecutionRecord?.properties ?? {})).toEqual(
      expect.arrayContaining(["id", "status", "result", "events"]),
    );
  });
});

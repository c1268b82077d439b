import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.js";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { AUTH, authedGet, postJson, startTestServer, type TestServer } from "../support/server.js";

const BODY_LIMIT = 64 * 1024;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(
    { SANDBOX_BODY_LIMIT_BYTES: String(BODY_LIMIT), SANDBOX_PROCESS_SANDBOX: "false" },
    {
      // Only JavaScript on wasm: languages and sandboxes outside it must be refused, never substituted.
      createSandboxes: async () =>
        new SandboxRegistry([
          await WasmSandbox.create({ logger: silentLogger(), workers: 1, languages: ["javascript"] }),
        ]),
    },
  );
});
afterAll(() => server?.close());

const execute = (body: unknown, headers: Record<string, string> = {}) =>
  postJson(`${server.url}/v1/execute`, body, headers);

/** No response may carry a stack frame or a path of this host. */
function expectNoHostDetails(body: unknown) {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/\/work\/|node_modules|\bat .*\(.*:\d+:\d+\)/);
}

describe("POST /v1/execute", () => {
  it("runs JavaScript in a fresh wasm interpreter and says which sandbox ran", async () => {
    const { status, body, headers } = await execute({
      language: "javascript",
      code: 'const fs = require("fs"); console.log(process.argv.slice(2).join(" "), process.env.WHO); fs.writeFileSync("out/result.json", JSON.stringify({ ok: true }));',
      args: ["hello"],
      env: { WHO: "world" },
      files: [{ path: "out/seed.bin", content: "AAEC", encoding: "base64" }],
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      language: "javascript",
      sandbox: "wasm",
      runtime: { name: "quickjs" },
      exitCode: 0,
      stdout: "hello world\n",
      stderr: "",
      truncated: { stdout: false, stderr: false },
      files: [{ path: "out/result.json", content: '{"ok":true}', encoding: "utf8", size: 11 }],
    });
    expect(body.id).toMatch(/^exec_[A-Za-z0-9_-]{22}$/);
    expect(body.error).toBeUndefined();
    expect(typeof body.durationMs).toBe("number");
    expect(headers.get("x-request-id")).toMatch(/^req_/);
    expect(headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("returns binary output files as base64", async () => {
    const { body } = await execute({
      language: "javascript",
      code: 'require("fs").writeFileSync("bin.dat", new Uint8Array([0, 255, 1]));',
    });
    expect(body.files).toEqual([{ path: "bin.dat", content: "AP8B", encoding: "base64", size: 3 }]);
  });

  it("reports guest failures as 200 outcomes with a stable code", async () => {
    const timeout = await execute({ language: "javascript", code: "for(;;){}", limits: { timeoutMs: 300 } });
    expect(timeout.status).toBe(200);
    expect(timeout.body).toMatchObject({ exitCode: null, error: { code: "TIMEOUT" } });
    const thrown = await execute({ language: "javascript", code: 'throw new TypeError("nope")' });
    expect(thrown.body).toMatchObject({ exitCode: 1, error: { code: "NON_ZERO_EXIT" } });
    expect(thrown.body.stderr).toContain("TypeError: nope");
  });

  it("keeps a sane client request id and replaces an insane one", async () => {
    const kept = await execute({ language: "javascript", code: "1" }, { "X-Request-Id": "client-123.abc" });
    expect(kept.headers.get("x-request-id")).toBe("client-123.abc");
    const replaced = await execute({ language: "bogus" }, { "X-Request-Id": "bad id with spaces <script>" });
    const id = replaced.headers.get("x-request-id");
    expect(id).toMatch(/^req_/);
    expect(replaced.body.error?.requestId).toBe(id);
  });

  it("logs the request id and the execution id, never guest output in a message", async () => {
    const marker = `marker-${Date.now()}`;
    const { body } = await execute(
      { language: "javascript", code: `console.log("${marker}")` },
      { "X-Request-Id": "log-check-1" },
    );
    const lines = server.logs.filter((l) => l.requestId === "log-check-1");
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["execution started", "execution finished"]));
    const executionLines = lines.filter((l) => String(l.msg).startsWith("execution "));
    expect(executionLines).toHaveLength(2);
    expect(executionLines.every((l) => l.executionId === body.id)).toBe(true);
    expect(JSON.stringify(server.logs)).not.toContain(marker);
  });
});

describe("request errors", () => {
  it.each([
    ["malformed JSON", "{nope", 400, "MALFORMED_JSON"],
    ["an unknown field", { language: "javascript", code: "", extra: 1 }, 400, "VALIDATION_FAILED"],
    ["an unknown language", { language: "cobol", code: "" }, 400, "VALIDATION_FAILED"],
    [
      "a limit over the maximum",
      { language: "javascript", code: "", limits: { timeoutMs: 10_000_000 } },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "a file leaving the workspace",
      { language: "javascript", code: "", files: [{ path: "../etc/x", content: "" }] },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "an absolute path outside the workspace",
      { language: "javascript", code: "", files: [{ path: "/etc/passwd", content: "" }] },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "a file over the script",
      { language: "javascript", code: "", files: [{ path: "main.js", content: "" }] },
      400,
      "VALIDATION_FAILED",
    ],
    [
      "invalid base64",
      { language: "javascript", code: "", files: [{ path: "a", content: "!!", encoding: "base64" }] },
      400,
      "VALIDATION_FAILED",
    ],
    ["a loader variable", { language: "javascript", code: "", env: { LD_PRELOAD: "/x.so" } }, 400, "VALIDATION_FAILED"],
    ["a language this host lacks", { language: "python", code: "print(1)" }, 422, "RUNTIME_UNAVAILABLE"],
    ["a disabled sandbox", { language: "javascript", code: "", sandbox: "process" }, 503, "SANDBOX_UNAVAILABLE"],
    [
      "the noop sandbox without its flag",
      { language: "javascript", code: "", sandbox: "noop" },
      503,
      "SANDBOX_UNAVAILABLE",
    ],
  ])("refuses %s", async (_name, body, status, code) => {
    const response = await execute(body);
    expect(response.status).toBe(status);
    expect(response.body.error?.code).toBe(code);
    expect(response.body.error?.requestId).toBe(response.headers.get("x-request-id"));
    expectNoHostDetails(response.body);
  });

  it("names the server maximum when a limit is too high", async () => {
    const { body } = await execute({ language: "javascript", code: "", limits: { memoryLimitBytes: 2 ** 40 } });
    expect(body.error?.message).toContain("1073741824");
    expect(body.error?.details).toEqual([
      { path: "limits.memoryLimitBytes", message: expect.stringContaining("maximum") },
    ]);
  });

  it("refuses a body that is not JSON by media type", async () => {
    const response = await fetch(`${server.url}/v1/execute`, {
      method: "POST",
      headers: { "content-type": "text/plain", ...AUTH },
      body: "{}",
    });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers 413 for an oversized Content-Length", async () => {
    const code = "x".repeat(BODY_LIMIT + 1);
    const { status, body } = await execute({ language: "javascript", code });
    expect(status).toBe(413);
    expect(body.error?.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("answers 413 for an oversized chunked body, counted while streaming", async () => {
    const url = new URL(`${server.url}/v1/execute`);
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          method: "POST",
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: { "content-type": "application/json", "transfer-encoding": "chunked", ...AUTH },
        },
        (res) => {
          let data = "";
          res.on("data", (chunk) => (data += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
        },
      );
      req.on("error", reject);
      req.write('{"language":"javascript","code":"');
      for (let i = 0; i < 20; i++) req.write("y".repeat(8 * 1024));
      req.end('"}');
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("answers 404 and 405 with the envelope", async () => {
    const missing = await authedGet(`${server.url}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    const wrongMethod = await authedGet(`${server.url}/v1/execute`);
    expect(wrongMethod.status).toBe(405);
    expect(((await wrongMethod.json()) as { error: { code: string } }).error.code).toBe("METHOD_NOT_ALLOWED");
  });
});

describe("discovery", () => {
  it("serves health, readiness, runtimes and an OpenAPI document", async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok", sandboxes: { wasm: { javascript: "available" } } });
    const runtimes = (await (await authedGet(`${server.url}/v1/runtimes`)).json()) as Record<string, unknown>;
    expect(runtimes).toMatchObject({
      defaultSandbox: "wasm",
      languages: ["javascript"],
      sandboxes: [{ kind: "wasm", available: true, languages: [{ language: "javascript" }] }],
      limits: { defaults: { timeoutMs: 5000 }, maxima: { timeoutMs: 60000 } },
    });
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(openapi.openapi).toBe("3.1.0");
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(["/v1/execute", "/v1/runtimes", "/healthz", "/readyz"]),
    );
    expect(Object.keys(openapi.components.schemas.ExecuteRequest?.properties ?? {})).toEqual(
      expect.arrayContaining(["language", "code", "stdin", "args", "env", "files", "limits", "sandbox"]),
    );
  });
});

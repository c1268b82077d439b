import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, startTestServer, type TestServer } from "../support/server.js";
import { scriptedSandboxes } from "./scripted-sandbox.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({}, scriptedSandboxes().deps);
});
afterAll(() => server?.close());

const execute = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  postJson(`${server.url}/v1/execute`, { language: "javascript", ...body }, headers);

describe("correlation ids", () => {
  it("continues a valid traceparent, returns this server's span, and carries both ids into the logs", async () => {
    const { status, headers } = await execute({ code: "ok" }, { "x-request-id": "corr-1", traceparent: TRACEPARENT });
    expect(status).toBe(200);
    expect(headers.get("x-request-id")).toBe("corr-1");
    const traceparent = headers.get("traceparent") ?? "";
    expect(traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(traceparent).not.toBe(TRACEPARENT);
    const lines = server.logs.filter((l) => l.requestId === "corr-1");
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["execution started", "execution finished", "request finished"]),
    );
    const finished = lines.find((l) => l.msg === "request finished");
    expect(finished).toMatchObject({
      traceId: TRACE_ID,
      status: 200,
      method: "POST",
      path: "/v1/execute",
      key: "default",
    });
    const executionLines = lines.filter((l) => l.msg === "execution started" || l.msg === "execution finished");
    expect(executionLines).toHaveLength(2);
    for (const line of executionLines) expect(line).toMatchObject({ traceId: TRACE_ID, keyName: "default" });
  });

  it("replaces an invalid traceparent with a new trace", async () => {
    const { headers } = await execute({ code: "ok" }, { "x-request-id": "corr-2", traceparent: "00-zzzz-nope-01" });
    const traceparent = headers.get("traceparent") ?? "";
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    const finished = server.logs.find((l) => l.requestId === "corr-2" && l.msg === "request finished");
    expect(finished?.traceId).toBe(traceparent.split("-")[1]);
  });

  it("hands the ids to the guest only when the request asks", async () => {
    const hidden = await execute({ code: "env", env: { A: "1" } }, { "x-request-id": "corr-3" });
    expect(JSON.parse(hidden.body.stdout ?? "")).toEqual({ A: "1" });
    const shown = await execute(
      { code: "env", env: { A: "1", SANDBOX_REQUEST_ID: "spoofed" }, exposeRequestId: true },
      { "x-request-id": "corr-4", traceparent: TRACEPARENT },
    );
    expect(shown.status).toBe(200);
    expect(JSON.parse(shown.body.stdout ?? "")).toEqual({
      A: "1",
      SANDBOX_REQUEST_ID: "corr-4",
      TRACEPARENT: shown.headers.get("traceparent"),
    });
  });

  it("rejects a non-boolean exposeRequestId", async () => {
    const { status, body } = await execute({ code: "ok", exposeRequestId: "yes" });
    expect(status).toBe(400);
    expect(body.error?.code).toBe("VALIDATION_FAILED");
  });
});

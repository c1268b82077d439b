import { Hono } from "hono";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../types.js";
import { requestId } from "./request-id.js";
import { bindRequestLogger, requestLogger } from "./request-logger.js";
import { traceContext } from "./trace-context.js";

function capture() {
  const lines: string[] = [];
  const base = pino({ level: "info", base: { service: "test" } }, { write: (line: string) => lines.push(line) });
  return { base, lines };
}

describe("request logger", () => {
  it("carries the request id and trace id, and the key once authenticated, one level below the server's logger", async () => {
    const { base, lines } = capture();
    const app = new Hono<AppEnv>();
    app.use(requestId(), traceContext(), requestLogger(base));
    app.get("/before", (c) => {
      expect(Object.getPrototypeOf(c.get("logger"))).toBe(base);
      c.get("logger").info("before auth");
      return c.body(null, 204);
    });
    app.get("/after", (c) => {
      bindRequestLogger(base, c, "agent");
      expect(Object.getPrototypeOf(c.get("logger"))).toBe(base);
      c.get("logger").info("after auth");
      return c.body(null, 204);
    });
    const response = await app.request("/before", { headers: { "x-request-id": "req-one" } });
    await app.request("/after", { headers: { "x-request-id": "req-two" } });

    expect(response.status).toBe(204);
    const [before, after] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(before).toMatchObject({ requestId: "req-one", msg: "before auth" });
    expect(before?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(before?.key).toBeUndefined();
    expect(after).toMatchObject({ requestId: "req-two", key: "agent", msg: "after auth" });
    // Each binding appears once in the line (a child of a child would repeat the parent's).
    expect(lines[1]?.match(/"requestId"/g)).toHaveLength(1);
  });
});

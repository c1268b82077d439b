import { describe, expect, it } from "vitest";
import { continueTrace, formatTraceparent, parseTraceparent } from "./trace-context.js";

const VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("traceparent", () => {
  it("parses a valid version-00 header", () => {
    expect(parseTraceparent(VALID)).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentSpanId: "00f067aa0ba902b7",
      flags: "01",
    });
  });

  it.each([
    ["uppercase hex", VALID.toUpperCase()],
    ["an all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"],
    ["an all-zero parent id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"],
    ["version ff", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
    ["trailing data on version 00", `${VALID}-extra`],
    ["a short trace id", "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01"],
    ["garbage", "hello"],
  ])("rejects %s", (_name, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it("accepts a future version with extra fields", () => {
    expect(parseTraceparent(`01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future`)?.traceId).toBe(
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
  });

  it("continues a valid trace with a new span and starts a fresh one otherwise", () => {
    const continued = continueTrace(VALID);
    expect(continued.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(continued.parentSpanId).toBe("00f067aa0ba902b7");
    expect(continued.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(continued.spanId).not.toBe("00f067aa0ba902b7");
    expect(formatTraceparent(continued)).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${continued.spanId}-01`);
    const fresh = continueTrace("bogus");
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.parentSpanId).toBeUndefined();
  });
});

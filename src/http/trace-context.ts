/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): a valid incoming `traceparent` is
 * continued (same trace id, this server's own span id, the caller's span as parent); anything else
 * starts a new trace. Version 00 is parsed exactly; a higher version is accepted when its first four
 * fields have the version-00 shape, as the spec asks.
 */
import { randomHex } from "../random-ids.js";

export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly flags: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

export function parseTraceparent(header: string | undefined): Omit<TraceContext, "spanId"> | undefined {
  if (header === undefined || header.length > 512) return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return undefined;
  const [, version, traceId = "", parentSpanId = "", flags = "", rest] = match;
  if (version === "ff") return undefined;
  if (version === "00" && rest !== undefined) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentSpanId)) return undefined;
  return { traceId, parentSpanId, flags };
}

export function continueTrace(header: string | undefined): TraceContext {
  const spanId = nonZeroHex(8);
  const parent = parseTraceparent(header);
  if (parent) return { ...parent, spanId };
  return { traceId: nonZeroHex(16), spanId, flags: "00" };
}

export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}

/** W3C forbids all-zero trace and span ids. */
function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomHex(bytes);
    if (!ALL_ZERO.test(hex)) return hex;
  }
}

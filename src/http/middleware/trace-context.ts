/**
 * W3C `traceparent`: continued when the caller sent a valid one, otherwise a new trace. The span
 * this server opened is returned in the `traceparent` response header and carried in every log line.
 */
import type { MiddlewareHandler } from "hono";
import { continueTrace, formatTraceparent } from "../trace-context.js";
import type { AppEnv } from "../types.js";

export function traceContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const trace = continueTrace(c.req.header("traceparent"));
    c.set("trace", trace);
    await next();
    c.res.headers.set("traceparent", formatTraceparent(trace));
  };
}

/**
 * One log line per request, after the response: method, path (no query string), status, duration,
 * and client; the request id, trace id and key name come from the request's child logger (the key
 * name once authentication has set it). Probes log at debug.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../types.js";

const PROBES = new Set(["/healthz", "/readyz"]);

export function accessLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const path = c.req.path.slice(0, 200);
    const fields = {
      method: c.req.method,
      path,
      status: c.res.status,
      durationMs: Math.round(performance.now() - started),
      client: c.get("clientIp"),
    };
    const log = c.get("logger");
    if (PROBES.has(path)) log.debug(fields, "request finished");
    else log.info(fields, "request finished");
  };
}

/**
 * CORS with an exact origin allowlist. No `*`, no credentials: a browser may call the API only from
 * a listed origin, sending its key in `Authorization`. A request or preflight from any other origin
 * is refused (ORIGIN_NOT_ALLOWED) without CORS headers. Every response varies on Origin, so caches
 * never serve one origin's answer to another.
 */
import type { MiddlewareHandler } from "hono";
import { errorResponse } from "../errors.js";
import type { AppEnv } from "../types.js";

const ALLOW_METHODS = "GET, POST";
const ALLOW_HEADERS = "authorization, content-type, x-request-id, traceparent, tracestate";
const EXPOSE_HEADERS =
  "x-request-id, traceparent, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, ratelimit-policy";
const MAX_AGE_SECONDS = "600";

export function cors(allowed: ReadonlySet<string>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header("origin");
    const preflight = c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
    if (origin !== undefined && !allowed.has(origin)) {
      c.header("Vary", "Origin");
      return errorResponse(c, "ORIGIN_NOT_ALLOWED");
    }
    if (origin !== undefined && preflight) {
      c.header("Access-Control-Allow-Origin", origin);
      c.header("Access-Control-Allow-Methods", ALLOW_METHODS);
      c.header("Access-Control-Allow-Headers", ALLOW_HEADERS);
      c.header("Access-Control-Max-Age", MAX_AGE_SECONDS);
      c.header("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      return c.body(null, 204);
    }
    await next();
    c.res.headers.append("Vary", "Origin");
    if (origin !== undefined) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
    }
  };
}

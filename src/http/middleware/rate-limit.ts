/**
 * Per-key rate limits with the RateLimit header fields of draft-ietf-httpapi-ratelimit-headers-06:
 * `RateLimit-Limit` (quota), `RateLimit-Remaining`, `RateLimit-Reset` (delta seconds until the
 * bucket is full again) and `RateLimit-Policy: <limit>;w=<window seconds>`, on every response to an
 * authenticated request, errors included. An empty bucket answers 429 RATE_LIMITED with Retry-After.
 * With auth disabled, the bucket is per client address instead.
 */
import type { MiddlewareHandler } from "hono";
import type { RateDecision } from "../../throttle/token-bucket.js";
import { clientKey } from "../client-ip.js";
import { errorResponse } from "../errors.js";
import { type HttpGuards, reportLimitHit } from "../guards.js";
import type { AppEnv } from "../types.js";

export function rateLimit(guards: HttpGuards): MiddlewareHandler<AppEnv> {
  const policy = `${guards.rate.limit};w=${guards.rate.windowSeconds}`;
  const apply = (headers: Headers, d: RateDecision) => {
    headers.set("RateLimit-Limit", String(d.limit));
    headers.set("RateLimit-Remaining", String(d.remaining));
    headers.set("RateLimit-Reset", String(d.resetSeconds));
    headers.set("RateLimit-Policy", policy);
  };
  return async (c, next) => {
    const name = c.get("keyName");
    const bucket = name !== undefined ? `key:${name}` : `client:${clientKey(c.get("clientIp"))}`;
    const decision = guards.rate.take(bucket);
    if (!decision.allowed) {
      c.header("Retry-After", String(decision.retryAfterSeconds));
      const response = errorResponse(c, "RATE_LIMITED");
      apply(response.headers, decision);
      reportLimitHit(guards, c, "rate_limit");
      return response;
    }
    await next();
    apply(c.res.headers, decision);
  };
}

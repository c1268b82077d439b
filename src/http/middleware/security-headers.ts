/** Headers every API response carries: no sniffing, no caching, no framing, no referrer. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../types.js";

const HEADERS: ReadonlyArray<readonly [string, string]> = Object.entries({
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Cross-Origin-Resource-Policy": "same-origin",
});

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    for (const [name, value] of HEADERS) c.res.headers.set(name, value);
  };
}

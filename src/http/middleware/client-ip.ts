/** Resolves the client address once per request (trusted proxies only for X-Forwarded-For). */
import type { MiddlewareHandler } from "hono";
import type { ClientAddressResolver } from "../client-ip.js";
import type { AppEnv } from "../types.js";

export function clientIp(resolver: ClientAddressResolver): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const peer = c.env?.incoming?.socket?.remoteAddress;
    c.set("clientIp", resolver.resolve(peer, c.req.header("x-forwarded-for")));
    await next();
  };
}

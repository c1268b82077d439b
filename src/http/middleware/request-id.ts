/**
 * Correlation: every response carries `X-Request-Id`. A client's id is kept when it is sane
 * (1-128 of `A-Z a-z 0-9 . _ : -`), otherwise one is generated.
 */
import type { MiddlewareHandler } from "hono";
import { randomBase64url } from "../../random-ids.js";
import type { AppEnv } from "../types.js";

export const REQUEST_ID_HEADER = "X-Request-Id";
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function generateRequestId(): string {
  return `req_${randomBase64url(12)}`;
}

export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const offered = c.req.header(REQUEST_ID_HEADER);
    const id = offered !== undefined && SANE_ID.test(offered) ? offered : generateRequestId();
    c.set("requestId", id);
    c.header(REQUEST_ID_HEADER, id);
    await next();
    // On the final response's headers, not `c.header()`: after the response exists, that rebuilds it
    // from its body stream, which takes @hono/node-server off its direct-write path.
    c.res.headers.set(REQUEST_ID_HEADER, id);
  };
}

/**
 * Correlation: every response carries `X-Request-Id`. A client's id is kept when it is sane
 * (1-128 of `A-Z a-z 0-9 . _ : -`), otherwise one is generated.
 */
import { randomBytes } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../types.js";

export const REQUEST_ID_HEADER = "X-Request-Id";
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function generateRequestId(): string {
  return `req_${randomBytes(12).toString("base64url")}`;
}

export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const offered = c.req.header(REQUEST_ID_HEADER);
    const id = offered !== undefined && SANE_ID.test(offered) ? offered : generateRequestId();
    c.set("requestId", id);
    c.header(REQUEST_ID_HEADER, id);
    await next();
    c.header(REQUEST_ID_HEADER, id);
  };
}

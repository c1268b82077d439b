/**
 * API key authentication for /v1/*: `Authorization: Bearer <key>`, exactly (the scheme spelled
 * `Bearer`, one space, a token of visible ASCII). Anything else, and any unknown key, gets the same
 * 401 body. Failures count toward a per-client lockout; a locked-out client gets 429 with
 * Retry-After before its key is looked at. The key's name (never the key) goes on the context and
 * into the request's logger.
 */
import type { MiddlewareHandler } from "hono";
import { type Principal, SCOPES, type Scope } from "../../auth/scopes.js";
import type { Logger } from "../../logger.js";
import { clientKey } from "../client-ip.js";
import { errorResponse } from "../errors.js";
import { alertFields, type HttpGuards } from "../guards.js";
import type { AppEnv } from "../types.js";
import { bindRequestLogger } from "./request-logger.js";

const BEARER = /^Bearer ([\x21-\x7e]{1,1024})$/;
const CHALLENGE = 'Bearer realm="inline-sandbox"';
const NO_KEYS_MESSAGE =
  "This server has no API key configured, so it refuses every request. Set SANDBOX_API_KEY or SANDBOX_API_KEYS_FILE and restart.";

/** The principal of every request when auth is explicitly disabled. */
export const ANONYMOUS: Principal = { name: "anonymous", scopes: new Set<Scope>(SCOPES) };

/** `logger` is the server's logger: the request's logger is rebuilt from it with the key's name. */
export function authenticate(guards: HttpGuards, logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const keys = guards.keys;
    if (keys === undefined) {
      c.set("principal", ANONYMOUS);
      await next();
      return;
    }
    const client = clientKey(c.get("clientIp"));
    const lock = guards.lockout.status(client);
    if (lock.blocked) {
      c.header("Retry-After", String(lock.retryAfterSeconds));
      return errorResponse(c, "AUTH_LOCKED_OUT");
    }
    if (keys.size === 0) {
      c.header("WWW-Authenticate", CHALLENGE);
      return errorResponse(c, "UNAUTHORIZED", NO_KEYS_MESSAGE);
    }

    const match = BEARER.exec(c.req.header("authorization") ?? "");
    const principal = match ? keys.authenticate(match[1] as string) : undefined;
    if (!principal) {
      if (guards.lockout.recordFailure(client)) {
        c.get("logger").warn({ client }, "client locked out after repeated authentication failures");
        guards.alerts.notify({
          type: "auth.lockout",
          severity: "warning",
          summary: `client ${client} locked out after repeated authentication failures`,
          ...alertFields(c),
        });
      }
      c.header("WWW-Authenticate", CHALLENGE);
      return errorResponse(c, "UNAUTHORIZED");
    }
    c.set("principal", principal);
    c.set("keyName", principal.name);
    bindRequestLogger(logger, c, principal.name);
    await next();
  };
}

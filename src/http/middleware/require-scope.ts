/** Refuses (403 FORBIDDEN) a request whose key lacks `scope`. Runs after `authenticate`. */
import type { MiddlewareHandler } from "hono";
import type { Scope } from "../../auth/scopes.js";
import { errorResponse } from "../errors.js";
import type { AppEnv } from "../types.js";

export function requireScope(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    if (!principal) return errorResponse(c, "UNAUTHORIZED");
    if (!principal.scopes.has(scope)) return errorResponse(c, "FORBIDDEN", `this API key lacks the ${scope} scope`);
    await next();
  };
}

import type { HttpBindings } from "@hono/node-server";
import type { Principal } from "../auth/scopes.js";
import type { Logger } from "../logger.js";
import type { TraceContext } from "./trace-context.js";

/** Per-request variables set by middleware. */
export interface AppEnv {
  /** Absent when the app is driven without a Node server (for example `app.request` in a test). */
  Bindings: Partial<HttpBindings>;
  Variables: {
    requestId: string;
    trace: TraceContext;
    /** The client address after trusted-proxy resolution. */
    clientIp: string;
    logger: Logger;
    /** Set once the request is authenticated (or auth is disabled); read by routes and later work. */
    principal: Principal | undefined;
    /** The authenticated key's configured name (never the key itself). */
    keyName: string | undefined;
  };
}

/**
 * The Hono application. Every request walks, in order: correlation (X-Request-Id, traceparent),
 * client address, request logger, access log, security headers, CORS; /v1/* then adds
 * authentication and the per-key rate limit, and each route checks its scope. One error boundary
 * turns every failure into the stable error envelope (never a stack trace or a host path).
 */
import { Hono } from "hono";
import type { LimitPolicy } from "../config.js";
import { isServiceError } from "../errors.js";
import type { Logger } from "../logger.js";
import { errorResponse, serviceErrorResponse } from "./errors.js";
import type { HttpGuards } from "./guards.js";
import { accessLog } from "./middleware/access-log.js";
import { authenticate } from "./middleware/authenticate.js";
import { clientIp } from "./middleware/client-ip.js";
import { cors } from "./middleware/cors.js";
import { rateLimit } from "./middleware/rate-limit.js";
import { requestId } from "./middleware/request-id.js";
import { requestLogger } from "./middleware/request-logger.js";
import { securityHeaders } from "./middleware/security-headers.js";
import { traceContext } from "./middleware/trace-context.js";
import { openApiDocument } from "./openapi.js";
import { approvalsRoutes } from "./routes/approvals.js";
import { executeRoutes } from "./routes/execute.js";
import { executionsRoutes } from "./routes/executions.js";
import { healthRoutes } from "./routes/health.js";
import { runtimesRoutes } from "./routes/runtimes.js";
import { toolsRoutes } from "./routes/tools.js";
import type { ServicesProvider } from "./services.js";
import type { AppEnv } from "./types.js";

const KNOWN_PATHS = new Set([
  "/v1/execute",
  "/v1/runtimes",
  "/v1/tools",
  "/v1/approvals",
  "/healthz",
  "/readyz",
  "/openapi.json",
]);
/** Routes with a parameter: a wrong method on them is 405, not 404. */
const KNOWN_PATTERNS = [
  /^\/v1\/tools\/[^/]+(?:\/invoke)?$/,
  /^\/v1\/approvals\/[^/]+(?:\/(?:approve|deny))?$/,
  /^\/v1\/executions\/[^/]+(?:\/events)?$/,
];

export interface AppOptions {
  readonly logger: Logger;
  readonly limits: LimitPolicy;
  readonly bodyLimitBytes: number;
  readonly services: ServicesProvider;
  readonly guards: HttpGuards;
}

export function createApp(options: AppOptions) {
  const { guards } = options;
  const app = new Hono<AppEnv>();
  let openapi: ReturnType<typeof openApiDocument> | undefined;

  app.use(requestId());
  app.use(traceContext());
  app.use(clientIp(guards.clients));
  app.use(requestLogger(options.logger));
  app.use(accessLog());
  app.use(securityHeaders());
  app.use(cors(guards.corsOrigins));
  app.use("/v1/*", authenticate(guards, options.logger), rateLimit(guards));

  app.route("/", healthRoutes(options.services));
  app.route("/", runtimesRoutes(options.services));
  app.route("/", executeRoutes(options.services, options.bodyLimitBytes, guards));
  app.route("/", toolsRoutes(options.services, options.bodyLimitBytes, guards));
  app.route("/", approvalsRoutes(options.services));
  app.route("/", executionsRoutes(options.services));
  app.get("/openapi.json", (c) => {
    openapi ??= openApiDocument(options.limits);
    return c.json(openapi);
  });

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    if (KNOWN_PATHS.has(path) || KNOWN_PATTERNS.some((p) => p.test(path)))
      return errorResponse(c, "METHOD_NOT_ALLOWED", `${c.req.method} is not allowed on ${path}`);
    return errorResponse(c, "NOT_FOUND", `no route for ${c.req.method} ${path.slice(0, 200)}`);
  });
  app.onError((error, c) => {
    if (isServiceError(error)) {
      const executionId = error.details?.executionId;
      if (typeof executionId === "string") c.header("X-Execution-Id", executionId);
      return serviceErrorResponse(c, error);
    }
    (c.get("logger") ?? options.logger).error({ err: error }, "unhandled error");
    return errorResponse(c, "INTERNAL");
  });
  return app;
}

/**
 * The one registry of error codes. Every code the service can emit is defined here once, with its
 * HTTP status and a default message, and documented in docs/errors.md (a test keeps the two equal).
 *
 * Two families:
 * - request errors: the request itself was refused; HTTP 4xx/5xx with `{ error: { code, message, requestId } }`.
 * - execution outcomes: the guest ran and something happened to it; HTTP 200 with `error: { code, message }`
 *   in the execution result. Their `status` is 200.
 * A third family, effect errors (one refused HTTP call of a running guest, handed to the guest), is
 * defined with the egress code in src/egress/errors.ts and re-exported here.
 */
export { EGRESS_ERRORS as EFFECT_ERRORS, type EgressErrorCode as EffectErrorCode } from "./egress/errors.js";
export interface ErrorDefinition {
  readonly code: string;
  readonly status: number;
  readonly message: string;
  /** Execution outcomes are data in a 200 result, not request failures. */
  readonly outcome: boolean;
}

function define<C extends string, O extends boolean = false>(
  code: C,
  status: number,
  message: string,
  outcome?: O,
): ErrorDefinition & { readonly code: C; readonly outcome: O } {
  return Object.freeze({ code, status, message, outcome: (outcome ?? false) as O });
}

export const ERRORS = {
  // Request errors
  VALIDATION_FAILED: define("VALIDATION_FAILED", 400, "The request does not match the schema."),
  MALFORMED_JSON: define("MALFORMED_JSON", 400, "The request body is not valid JSON."),
  UNSUPPORTED_MEDIA_TYPE: define("UNSUPPORTED_MEDIA_TYPE", 415, "The request body must be application/json."),
  PAYLOAD_TOO_LARGE: define("PAYLOAD_TOO_LARGE", 413, "The request body exceeds the configured limit."),
  UNAUTHORIZED: define("UNAUTHORIZED", 401, "A valid API key is required: send Authorization: Bearer <key>."),
  FORBIDDEN: define("FORBIDDEN", 403, "This API key does not have the scope this operation needs."),
  ORIGIN_NOT_ALLOWED: define("ORIGIN_NOT_ALLOWED", 403, "Requests from this browser origin are not allowed."),
  AUTH_LOCKED_OUT: define(
    "AUTH_LOCKED_OUT",
    429,
    "Too many failed authentication attempts from this client; retry after the time in Retry-After.",
  ),
  RATE_LIMITED: define(
    "RATE_LIMITED",
    429,
    "Rate limit exceeded for this API key; retry after the time in Retry-After.",
  ),
  TOO_MANY_CONCURRENT: define(
    "TOO_MANY_CONCURRENT",
    429,
    "Too many executions are running or queued for this API key; retry later.",
  ),
  NOT_FOUND: define("NOT_FOUND", 404, "No such resource."),
  METHOD_NOT_ALLOWED: define("METHOD_NOT_ALLOWED", 405, "Method not allowed on this resource."),
  RUNTIME_UNAVAILABLE: define("RUNTIME_UNAVAILABLE", 422, "The requested language is not available on this server."),
  SANDBOX_UNAVAILABLE: define(
    "SANDBOX_UNAVAILABLE",
    503,
    "The requested sandbox is not available on this host; nothing was run.",
  ),
  NOT_READY: define("NOT_READY", 503, "The server is still loading its runtimes."),
  OVERLOADED: define("OVERLOADED", 503, "Too many executions are queued; try again later."),
  INTERNAL: define("INTERNAL", 500, "An internal error occurred."),
  STORE_UNAVAILABLE: define(
    "STORE_UNAVAILABLE",
    503,
    "The control-plane store cannot be read or written; nothing was run.",
  ),
  POLICY_DENIED: define("POLICY_DENIED", 403, "The policy denies this execution; nothing was run."),
  SECRET_DETECTED: define("SECRET_DETECTED", 422, "The request contains what looks like a secret; nothing was run."),
  SELF_APPROVAL_FORBIDDEN: define(
    "SELF_APPROVAL_FORBIDDEN",
    403,
    "The key that requested an execution can never approve or deny it.",
  ),
  APPROVAL_DENIED: define("APPROVAL_DENIED", 403, "A human denied this execution; nothing was run."),
  APPROVAL_NOT_PENDING: define("APPROVAL_NOT_PENDING", 409, "The approval has already been decided."),
  APPROVAL_EXPIRED: define("APPROVAL_EXPIRED", 410, "The approval expired before it was decided; nothing was run."),
  APPROVAL_MISMATCH: define(
    "APPROVAL_MISMATCH",
    409,
    "What the approval was bound to (tool version, code or input) has changed; the approval is void.",
  ),

  // Execution outcomes (HTTP 200, `error` inside the result)
  NON_ZERO_EXIT: define("NON_ZERO_EXIT", 200, "The code exited with a non-zero status.", true),
  TIMEOUT: define("TIMEOUT", 200, "The execution exceeded its time limit and was stopped.", true),
  MEMORY_LIMIT: define("MEMORY_LIMIT", 200, "The execution exceeded its memory limit and was stopped.", true),
  OUTPUT_LIMIT: define("OUTPUT_LIMIT", 200, "The execution exceeded its output limit and was stopped.", true),
  FILESYSTEM_LIMIT: define(
    "FILESYSTEM_LIMIT",
    200,
    "The execution exceeded its filesystem quota and was stopped.",
    true,
  ),
  SANDBOX_VIOLATION: define(
    "SANDBOX_VIOLATION",
    200,
    "The code attempted an operation the sandbox does not permit and was stopped.",
    true,
  ),
  SANDBOX_FAULT: define(
    "SANDBOX_FAULT",
    200,
    "The sandbox failed while running the code; the instance was discarded.",
    true,
  ),
  DRY_RUN: define("DRY_RUN", 200, "Dry run: the effect was not performed and no mock answers it.", true),
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;
export type OutcomeCode = {
  [K in ErrorCode]: (typeof ERRORS)[K]["outcome"] extends true ? K : never;
}[ErrorCode];

/** A request-level error: maps to a 4xx/5xx response with the stable envelope. */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    const def = ERRORS[code];
    super(message ?? def.message);
    this.name = "ServiceError";
    this.code = code;
    this.status = def.status;
    this.details = details;
  }
}

export function isServiceError(value: unknown): value is ServiceError {
  return value instanceof ServiceError;
}

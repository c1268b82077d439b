/**
 * The error envelope `{ error: { code, message, requestId, details? } }` and the mapping from
 * validation failures to it. Raw zod output and host details never reach a response.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { ERRORS, type ErrorCode, ServiceError } from "../errors.js";
import type { AppEnv } from "./types.js";

export interface ErrorIssue {
  readonly path: string;
  readonly message: string;
}

export function errorResponse(c: Context<AppEnv>, code: ErrorCode, message?: string, details?: readonly ErrorIssue[]) {
  const def = ERRORS[code];
  const body = {
    error: {
      code,
      message: message ?? def.message,
      requestId: c.get("requestId") ?? "",
      ...(details && details.length > 0 ? { details } : {}),
    },
  };
  return c.json(body, def.status as ContentfulStatusCode);
}

export function serviceErrorResponse(c: Context<AppEnv>, error: ServiceError) {
  const issues = error.details?.issues;
  return errorResponse(c, error.code, error.message, Array.isArray(issues) ? (issues as ErrorIssue[]) : undefined);
}

/** A zod failure as VALIDATION_FAILED, naming each path and the reason (no received values echoed). */
export function validationError(error: ZodError): ServiceError {
  const issues: ErrorIssue[] = error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.map(String).join(".") || "(body)",
    message: issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : issue.message,
  }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return new ServiceError("VALIDATION_FAILED", `invalid request: ${summary}`, { issues });
}

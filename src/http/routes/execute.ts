/** POST /v1/execute: run code once in a fresh sandboxed interpreter. */
import { Hono } from "hono";
import { ServiceError } from "../../errors.js";
import { validationError } from "../errors.js";
import { readJsonBody } from "../json-body.js";
import { executeRequestSchema } from "../schemas.js";
import type { ServicesProvider } from "../services.js";
import type { AppEnv } from "../types.js";

export function executeRoutes(services: ServicesProvider, bodyLimitBytes: number) {
  let schema: ReturnType<typeof executeRequestSchema> | undefined;
  return new Hono<AppEnv>().post("/v1/execute", async (c) => {
    const s = services();
    if (!s) throw new ServiceError("NOT_READY");
    schema ??= executeRequestSchema(s.limits);
    const parsed = schema.safeParse(await readJsonBody(c, bodyLimitBytes));
    if (!parsed.success) throw validationError(parsed.error);
    const result = await s.executor.execute(parsed.data, {
      requestId: c.get("requestId"),
      signal: c.req.raw.signal,
    });
    return c.json(result);
  });
}

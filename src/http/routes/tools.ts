/**
 * The tool registry and invocation:
 *   PUT /v1/tools/{name}          register or change a tool (scope `admin`): 201 new version, 200 unchanged
 *   GET /v1/tools, /v1/tools/{name}[?version=N]   read (any key)
 *   DELETE /v1/tools/{name}       (scope `admin`) 204
 *   POST /v1/tools/{name}/invoke  run it (scope `execute`): 200 result, or 202 waiting for approval
 * Registering takes `admin` because a tool's policy decides what its runs may do without a human.
 */
import { Hono } from "hono";
import { ServiceError } from "../../errors.js";
import { toolView } from "../../tools/registry.js";
import { invokeRequestSchema, toolDefinitionSchema } from "../../tools/schema.js";
import { validationError } from "../errors.js";
import type { HttpGuards } from "../guards.js";
import { readJsonBody } from "../json-body.js";
import { requireScope } from "../middleware/require-scope.js";
import type { Services, ServicesProvider } from "../services.js";
import type { AppEnv } from "../types.js";
import { acquireSlot, observeOutcome } from "./execute.js";
import { ownerOf, pipelineContext, respondSubmission } from "./submission.js";

function ready(services: ServicesProvider): Services {
  const s = services();
  if (!s) throw new ServiceError("NOT_READY");
  return s;
}

function parseVersion(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(raw)) {
    throw new ServiceError("VALIDATION_FAILED", "version must be a positive integer", {
      issues: [{ path: "version", message: "must be a positive integer" }],
    });
  }
  return Number(raw);
}

export function toolsRoutes(services: ServicesProvider, bodyLimitBytes: number, guards: HttpGuards) {
  return new Hono<AppEnv>()
    .get("/v1/tools", async (c) => {
      const tools = await ready(services).tools.list();
      return c.json({
        tools: tools.map((t) => {
          const { code: _code, ...summary } = toolView(t);
          return summary;
        }),
      });
    })
    .put("/v1/tools/:name", requireScope("admin"), async (c) => {
      const s = ready(services);
      const parsed = toolDefinitionSchema.safeParse(await readJsonBody(c, bodyLimitBytes));
      if (!parsed.success) throw validationError(parsed.error);
      const { record, created } = await s.tools.put(c.req.param("name"), parsed.data, ownerOf(c));
      return c.json(toolView(record), created ? 201 : 200);
    })
    .get("/v1/tools/:name", async (c) => {
      const record = await ready(services).tools.get(c.req.param("name"), parseVersion(c.req.query("version")));
      return c.json(toolView(record));
    })
    .delete("/v1/tools/:name", requireScope("admin"), async (c) => {
      await ready(services).tools.delete(c.req.param("name"));
      return c.body(null, 204);
    })
    .post("/v1/tools/:name/invoke", requireScope("execute"), async (c) => {
      const s = ready(services);
      const parsed = invokeRequestSchema.safeParse(await readJsonBody(c, bodyLimitBytes));
      if (!parsed.success) throw validationError(parsed.error);
      const release = await acquireSlot(guards, c);
      try {
        const submission = await s.pipeline.invoke(c.req.param("name"), parsed.data, pipelineContext(c));
        if (submission.status === "completed") observeOutcome(guards, c, submission.response);
        return respondSubmission(c, submission);
      } finally {
        release();
      }
    });
}

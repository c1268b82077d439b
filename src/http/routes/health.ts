/** Liveness (`/healthz`: the process serves) and readiness (`/readyz`: runtimes are loaded). */
import { Hono } from "hono";
import type { ServicesProvider } from "../services.js";
import type { AppEnv } from "../types.js";

export function healthRoutes(services: ServicesProvider) {
  return new Hono<AppEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" as const }))
    .get("/readyz", (c) =>
      services() ? c.json({ status: "ok" as const }) : c.json({ status: "loading" as const }, 503),
    );
}

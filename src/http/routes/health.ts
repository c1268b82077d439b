/**
 * Liveness and readiness probes (no authentication).
 *
 * - `/healthz`: 200 while the process serves, also while runtimes load.
 * - `/readyz`: 200 `{ status: "ok" }` once every configured language finished loading, 503
 *   `{ status: "loading" }` before. Languages become usable one by one while the server is still
 *   "loading" (an execution of a language still loading waits for it), so the body also gives each
 *   sandbox's languages and their state: `available`, `loading`, or `unavailable` (its load failed:
 *   it stays unavailable; the reason is in the authenticated GET /v1/runtimes, not in this public
 *   probe). A language that failed does not hold readiness back: the server is ready and refuses
 *   that language with RUNTIME_UNAVAILABLE.
 */
import { Hono } from "hono";
import { languageStatuses } from "../../sandbox/registry.js";
import type { HealthResponse } from "../schemas.js";
import type { ServicesProvider } from "../services.js";
import type { AppEnv } from "../types.js";

export function healthRoutes(services: ServicesProvider) {
  return new Hono<AppEnv>()
    .get("/healthz", (c) => c.json({ status: "ok" as const }))
    .get("/readyz", (c) => {
      const s = services();
      if (!s) return c.json({ status: "loading" } satisfies HealthResponse, 503);
      const sandboxes: NonNullable<HealthResponse["sandboxes"]> = {};
      for (const sandbox of s.sandboxes.all()) {
        sandboxes[sandbox.kind] = Object.fromEntries(languageStatuses(sandbox).map((l) => [l.language, l.state]));
      }
      const loading = s.sandboxes.loading();
      return c.json({ status: loading ? "loading" : "ok", sandboxes } satisfies HealthResponse, loading ? 503 : 200);
    });
}

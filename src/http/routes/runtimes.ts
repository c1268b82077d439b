/** GET /v1/runtimes: what this host can run, on which sandbox, and the limits that apply. Any authenticated key. */
import { Hono } from "hono";
import { ServiceError } from "../../errors.js";
import { languageStatuses } from "../../sandbox/registry.js";
import { LANGUAGES } from "../../sandbox/types.js";
import type { ServicesProvider } from "../services.js";
import type { AppEnv } from "../types.js";

export function runtimesRoutes(services: ServicesProvider) {
  return new Hono<AppEnv>().get("/v1/runtimes", (c) => {
    const s = services();
    if (!s) throw new ServiceError("NOT_READY");
    const sandboxes = s.sandboxes.all().map((sandbox) => {
      const availability = sandbox.availability();
      const statuses = languageStatuses(sandbox);
      const loading = statuses.filter((l) => l.state === "loading").map((l) => l.language);
      const unavailable = statuses.flatMap((l) =>
        l.state === "unavailable" ? [{ language: l.language, reason: l.reason }] : [],
      );
      return {
        kind: sandbox.kind,
        available: availability.available,
        ...(availability.available ? {} : { reason: availability.reason }),
        languages: [...sandbox.languages()],
        // Still loading: an execution of these waits for the load, then runs or is refused.
        ...(loading.length > 0 ? { loadingLanguages: loading } : {}),
        ...(unavailable.length > 0 ? { unavailableLanguages: unavailable } : {}),
      };
    });
    const languages = LANGUAGES.filter((language) =>
      s.sandboxes
        .all()
        .some((sb) => sb.availability().available && sb.languages().some((l) => l.language === language)),
    );
    return c.json({
      defaultSandbox: s.defaultSandbox,
      sandboxes,
      languages,
      limits: { defaults: { ...s.limits.defaults }, maxima: { ...s.limits.maxima } },
    });
  });
}

/**
 * Starts the HTTP server first (so /healthz answers and /readyz says "loading"), then loads the
 * sandboxes; the API answers NOT_READY until they are loaded. Closing stops accepting connections and
 * disposes the sandboxes.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type Config, limitPolicy } from "./config.js";
import { Executor } from "./executor/executor.js";
import { createApp } from "./http/app.js";
import type { Services } from "./http/services.js";
import type { Logger } from "./logger.js";
import { createSandboxes } from "./sandbox/factory.js";
import type { SandboxRegistry } from "./sandbox/registry.js";

export interface RunningServer {
  readonly url: string;
  /** Resolves once the sandboxes are loaded and the API serves executions. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface ServerDependencies {
  /** Builds the sandboxes; tests may pass their own. */
  readonly createSandboxes?: (config: Config, logger: Logger) => Promise<SandboxRegistry>;
}

export async function startServer(
  config: Config,
  logger: Logger,
  deps: ServerDependencies = {},
): Promise<RunningServer> {
  const limits = limitPolicy(config);
  let services: Services | undefined;
  const app = createApp({ logger, limits, bodyLimitBytes: config.bodyLimitBytes, services: () => services });

  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url }, "listening");

  let sandboxes: SandboxRegistry | undefined;
  const ready = (async () => {
    sandboxes = await (deps.createSandboxes ?? createSandboxes)(config, logger);
    services = {
      executor: new Executor({ sandboxes, limits, defaultSandbox: config.defaultSandbox, logger }),
      sandboxes,
      limits,
      defaultSandbox: config.defaultSandbox,
    };
    const summary = sandboxes.all().map((s) => ({
      sandbox: s.kind,
      available: s.availability().available,
      languages: s.languages().map((l) => `${l.language} (${l.runtime.name} ${l.runtime.version})`),
    }));
    logger.info({ sandboxes: summary }, "ready");
  })();

  return {
    url,
    ready,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ready.catch(() => undefined);
      await sandboxes?.[Symbol.asyncDispose]();
    },
  };
}

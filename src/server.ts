/**
 * Starts the HTTP server first (so /healthz answers and /readyz says "loading"), then loads the
 * sandboxes; the API answers NOT_READY until they are loaded. Closing stops accepting connections,
 * disposes the sandboxes and flushes pending ops alerts (bounded).
 *
 * The Node server is hardened deliberately: headers, whole-request and keep-alive timeouts and the
 * header size limit come from configuration, and connections are checked for expiry often enough
 * that a slow-header client is cut off close to `headersTimeoutMs`.
 */
import type { ServerOptions } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { AlertSink } from "./alerts/alert.js";
import { LoggingAlertSink } from "./alerts/log-sink.js";
import { WebhookAlertSink } from "./alerts/webhook-sink.js";
import { loadKeys } from "./auth/load-keys.js";
import { type Config, limitPolicy } from "./config.js";
import { Executor } from "./executor/executor.js";
import { createApp } from "./http/app.js";
import { createGuards } from "./http/guards.js";
import type { Services } from "./http/services.js";
import type { Logger } from "./logger.js";
import { createSandboxes } from "./sandbox/factory.js";
import type { SandboxRegistry } from "./sandbox/registry.js";

export interface RunningServer {
  readonly url: string;
  /** Resolves once the sandboxes are loaded and the API serves executions. */
  readonly ready: Promise<void>;
  /** The key generated on this first run, to show the operator once; absent otherwise. */
  readonly generatedKey?: { readonly key: string; readonly path: string };
  close(): Promise<void>;
}

export interface ServerDependencies {
  /** Builds the sandboxes; tests may pass their own. */
  readonly createSandboxes?: (config: Config, logger: Logger) => Promise<SandboxRegistry>;
}

export function nodeServerOptions(config: Config): ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    maxHeaderSize: config.maxHeaderBytes,
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(config.headersTimeoutMs / 4))),
  };
}

function createAlertSink(config: Config, logger: Logger): AlertSink {
  const alertLogger = logger.child({ component: "alerts" });
  const webhook =
    config.alertWebhookUrl !== undefined && config.alertWebhookSecret !== undefined
      ? new WebhookAlertSink({
          url: config.alertWebhookUrl,
          secret: config.alertWebhookSecret,
          maxAttempts: config.alertMaxAttempts,
          retryBaseMs: config.alertRetryBaseMs,
          timeoutMs: config.alertTimeoutMs,
          logger: alertLogger,
        })
      : undefined;
  return new LoggingAlertSink(alertLogger, webhook);
}

export async function startServer(
  config: Config,
  logger: Logger,
  deps: ServerDependencies = {},
): Promise<RunningServer> {
  const limits = limitPolicy(config);
  const keys = await loadKeys(config, logger);
  const alerts = createAlertSink(config, logger);
  const guards = createGuards(config, keys.ring, alerts);
  let services: Services | undefined;
  const app = createApp({ logger, limits, bodyLimitBytes: config.bodyLimitBytes, services: () => services, guards });

  const server = serve({
    fetch: app.fetch,
    hostname: config.host,
    port: config.port,
    serverOptions: nodeServerOptions(config),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info(
    { url, auth: keys.ring === undefined ? "disabled" : "api-key", corsOrigins: config.corsOrigins },
    "listening",
  );

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
    ...(keys.generated ? { generatedKey: keys.generated } : {}),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ("closeIdleConnections" in server) server.closeIdleConnections();
      });
      await ready.catch(() => undefined);
      await sandboxes?.[Symbol.asyncDispose]();
      await alerts.close();
    },
  };
}

/**
 * Starts the HTTP server first (so /healthz answers and /readyz says "loading"), then starts the
 * sandboxes; the API answers NOT_READY until they run (the wasm sandbox's worker threads), then each
 * language is usable as soon as its own runtime loaded: an execution of a language still loading
 * waits for it. /readyz answers 200 once every language finished loading (see health.ts).
 * The control-plane store is opened at start (a store that cannot be opened makes every execution
 * answer STORE_UNAVAILABLE: fail closed), and an approval sweeper expires undecided approvals. Closing stops accepting connections, stops
 * the sweeper, disposes the sandboxes, closes the store and flushes pending ops alerts (bounded).
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
import { ApprovalService } from "./approvals/approval-service.js";
import { EffectApprovals } from "./approvals/effect-approvals.js";
import { AuditLog } from "./audit/audit-log.js";
import { loadKeys } from "./auth/load-keys.js";
import { type Config, limitPolicy } from "./config.js";
import { createDialer } from "./egress/dial.js";
import { systemResolver } from "./egress/resolve.js";
import { ApprovedRuns } from "./executor/approved-runs.js";
import type { EgressTransport } from "./executor/effects.js";
import { Executor } from "./executor/executor.js";
import { ExecutionPipeline } from "./executor/pipeline.js";
import { closeInterrupted, closeOrphanedEffectApprovals } from "./executor/recovery.js";
import { createApp } from "./http/app.js";
import { createGuards } from "./http/guards.js";
import type { Services } from "./http/services.js";
import type { Logger } from "./logger.js";
import { createSandboxes } from "./sandbox/factory.js";
import type { SandboxRegistry } from "./sandbox/registry.js";
import { loadSecretVault } from "./secrets/vault.js";
import { openStore } from "./store/open-store.js";
import type { ControlStore } from "./store/store.js";
import { ToolRegistry } from "./tools/registry.js";

export interface RunningServer {
  readonly url: string;
  /** Resolves once every sandbox finished loading its languages (some may be unavailable). */
  readonly ready: Promise<void>;
  /** The key generated on this first run, to show the operator once; absent otherwise. */
  readonly generatedKey?: { readonly key: string; readonly path: string };
  close(): Promise<void>;
}

export interface ServerDependencies {
  /** Builds the sandboxes; tests may pass their own. */
  readonly createSandboxes?: (config: Config, logger: Logger) => Promise<SandboxRegistry>;
  /** Opens the control-plane store; tests may pass their own. */
  readonly openStore?: (config: Config, logger: Logger) => ControlStore;
  /** The clock of approvals and records (milliseconds); tests may pass their own. */
  readonly now?: () => number;
  /** How guest HTTP calls reach the network; tests inject a table resolver and a loopback-only dialer. */
  readonly egress?: EgressTransport;
}

/** A `running` execution untouched for the longest run plus this long was left by a dead process. */
const INTERRUPTED_GRACE_MS = 5 * 60_000;

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
  const vault = loadSecretVault(config.secretsFile, logger.child({ component: "secrets" }));
  const now = deps.now ?? Date.now;
  const store = (deps.openStore ?? openStore)(config, logger);
  const audit = new AuditLog(store, now);
  const tools = new ToolRegistry(store, limits, now);
  let stopSweeper = () => {};
  let services: Services | undefined;
  const app = createApp({ logger, limits, bodyLimitBytes: config.bodyLimitBytes, services: () => services, guards });

  // The sandboxes start loading while the HTTP server binds: their runtimes are the long pole of a
  // cold start. If the server cannot listen, they are disposed again.
  const starting = (deps.createSandboxes ?? createSandboxes)(config, logger);
  starting.catch(() => undefined);
  const server = serve({
    fetch: app.fetch,
    hostname: config.host,
    port: config.port,
    serverOptions: nodeServerOptions(config),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  }).catch(async (error: unknown) => {
    await starting.then((s) => s[Symbol.asyncDispose]()).catch(() => undefined);
    throw error;
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info(
    { url, auth: keys.ring === undefined ? "disabled" : "api-key", corsOrigins: config.corsOrigins },
    "listening",
  );

  let sandboxes: SandboxRegistry | undefined;
  // The API serves once the sandboxes started; languages keep loading after that.
  const started = (async () => {
    sandboxes = await starting;
    const executor = new Executor({ sandboxes, limits, defaultSandbox: config.defaultSandbox, logger });
    const approvalLog = logger.child({ component: "approvals" });
    const effectApprovals = new EffectApprovals({
      store,
      audit,
      now,
      logger: approvalLog,
      ttlMs: config.approvalTtlMs,
    });
    const pipeline = new ExecutionPipeline({
      store,
      audit,
      executor,
      tools,
      vault,
      defaultPolicy: config.defaultPolicy,
      limits,
      approvalTtlMs: config.approvalTtlMs,
      maxStoredResultBytes: config.maxStoredResultBytes,
      egress: {
        resolver: systemResolver,
        dialer: createDialer(),
        ...deps.egress,
        limits: {
          timeoutMs: config.egressTimeoutMs,
          maxResponseBytes: config.egressMaxResponseBytes,
          maxRequests: config.egressMaxRequests,
        },
      },
      effectApprover: effectApprovals,
      logger,
      now,
    });
    const approvals = new ApprovalService({
      store,
      audit,
      now,
      logger: approvalLog,
      effects: effectApprovals,
      binding: new ApprovedRuns(pipeline, store, approvalLog),
    });
    const recover = () => closeInterrupted(store, audit, limits, now(), INTERRUPTED_GRACE_MS);
    await approvals
      .expireOverdue()
      // Startup only: a guest waiting on an effect approval died with the previous process.
      .then(() => closeOrphanedEffectApprovals(store, effectApprovals))
      .then(recover)
      .catch((error: unknown) => logger.warn({ err: error }, "startup sweep of the store failed"));
    stopSweeper = approvals.startSweeper(config.approvalSweepMs, recover);
    services = {
      executor,
      sandboxes,
      limits,
      defaultSandbox: config.defaultSandbox,
      pipeline,
      tools,
      approvals,
      audit,
      store,
      maxWaitMs: config.maxWaitMs,
    };
    logger.info("serving; languages load in the background");
    return sandboxes;
  })();
  const ready = started.then(async (loading) => {
    await loading.loaded();
    const summary = loading.all().map((s) => ({
      sandbox: s.kind,
      available: s.availability().available,
      languages: s.languages().map((l) => `${l.language} (${l.runtime.name} ${l.runtime.version})`),
    }));
    logger.info({ sandboxes: summary }, "ready");
  });

  return {
    url,
    ready,
    ...(keys.generated ? { generatedKey: keys.generated } : {}),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ("closeIdleConnections" in server) server.closeIdleConnections();
      });
      // Not `ready`: disposing the sandboxes stops the loads still running.
      await started.catch(() => undefined);
      stopSweeper();
      await sandboxes?.[Symbol.asyncDispose]();
      store.close();
      await alerts.close();
    },
  };
}

/**
 * The state behind the HTTP security layer, built once per server from the configuration: the key
 * ring, brute-force lockout, client address resolution, rate limits, per-key concurrency caps,
 * limit-hit tracking and the ops alert sink. Middleware reads it; nothing here touches a request.
 */
import type { Context } from "hono";
import type { AlertInput, AlertSink } from "../alerts/alert.js";
import { LimitHitTracker } from "../alerts/limit-hits.js";
import type { KeyRing } from "../auth/key-ring.js";
import { AuthLockout } from "../auth/lockout.js";
import type { Config } from "../config.js";
import { ConcurrencyLimiter } from "../throttle/concurrency-limiter.js";
import { TokenBuckets } from "../throttle/token-bucket.js";
import { ClientAddressResolver } from "./client-ip.js";
import type { AppEnv } from "./types.js";

export interface HttpGuards {
  /** undefined only when auth is explicitly disabled (`--no-auth`). An empty ring refuses everything. */
  readonly keys: KeyRing | undefined;
  readonly lockout: AuthLockout;
  readonly clients: ClientAddressResolver;
  readonly rate: TokenBuckets;
  readonly concurrency: ConcurrencyLimiter;
  readonly limitHits: LimitHitTracker;
  readonly alerts: AlertSink;
  readonly corsOrigins: ReadonlySet<string>;
}

export type GuardConfig = Pick<
  Config,
  | "trustedProxies"
  | "authMaxFailures"
  | "authFailureWindowMs"
  | "authLockoutMs"
  | "rateLimitRequests"
  | "rateLimitWindowMs"
  | "maxConcurrentPerKey"
  | "maxQueuedPerKey"
  | "alertLimitHits"
  | "alertLimitWindowMs"
  | "corsOrigins"
>;

export function createGuards(
  config: GuardConfig,
  keys: KeyRing | undefined,
  alerts: AlertSink,
  now?: () => number,
): HttpGuards {
  const clock = now ? { now } : {};
  return {
    keys,
    lockout: new AuthLockout({
      maxFailures: config.authMaxFailures,
      windowMs: config.authFailureWindowMs,
      lockoutMs: config.authLockoutMs,
      ...clock,
    }),
    clients: new ClientAddressResolver(config.trustedProxies),
    rate: new TokenBuckets({ limit: config.rateLimitRequests, windowMs: config.rateLimitWindowMs, ...clock }),
    concurrency: new ConcurrencyLimiter({ maxActive: config.maxConcurrentPerKey, maxQueued: config.maxQueuedPerKey }),
    limitHits: new LimitHitTracker({ threshold: config.alertLimitHits, windowMs: config.alertLimitWindowMs, ...clock }),
    alerts,
    corsOrigins: new Set(config.corsOrigins),
  };
}

/** The correlation fields every alert raised while serving `c` carries. */
export function alertFields(c: Context<AppEnv>): Pick<AlertInput, "requestId" | "traceId" | "keyName" | "client"> {
  return {
    requestId: c.get("requestId"),
    traceId: c.get("trace")?.traceId,
    keyName: c.get("keyName"),
    client: c.get("clientIp"),
  };
}

/** Counts a limit hit for the request's key and raises `limits.repeated` when the key crosses the threshold. */
export function reportLimitHit(guards: HttpGuards, c: Context<AppEnv>, kind: string): void {
  const key = c.get("keyName") ?? `client:${c.get("clientIp") ?? "unknown"}`;
  const hits = guards.limitHits.record(key, kind);
  if (hits) {
    guards.alerts.notify({
      type: "limits.repeated",
      severity: "warning",
      summary: `key ${key} hit limits repeatedly`,
      ...alertFields(c),
      details: { hits },
    });
  }
}

/**
 * Ops alerts: versioned JSON events about attacks and abuse, delivered off the request path. The
 * payload carries correlation ids and the key's name, never a key, a header value or guest output.
 */
import { randomBase64url } from "../random-ids.js";

export const ALERT_TYPES = ["auth.lockout", "sandbox.violation", "limits.repeated"] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export interface AlertInput {
  readonly type: AlertType;
  readonly severity: "warning" | "critical";
  readonly summary: string;
  readonly requestId?: string | undefined;
  readonly traceId?: string | undefined;
  readonly keyName?: string | undefined;
  readonly client?: string | undefined;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface Alert extends AlertInput {
  readonly v: 1;
  readonly id: string;
  readonly time: string;
  readonly service: "inline-sandbox";
}

export function createAlert(input: AlertInput, now: Date = new Date()): Alert {
  return {
    v: 1,
    id: `alrt_${randomBase64url(12)}`,
    time: now.toISOString(),
    service: "inline-sandbox",
    ...input,
  };
}

/** Where alerts go. `notify` never blocks and never throws: delivery happens in the background. */
export interface AlertSink {
  notify(input: AlertInput): void;
  /** Waits (bounded) for deliveries in flight, then gives up on the rest. */
  close(): Promise<void>;
}

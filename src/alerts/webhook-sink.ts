/**
 * Delivers alerts to the ops webhook: POST of the JSON alert, signed with HMAC-SHA256, retried with
 * exponential backoff and jitter on network errors, timeouts, 408, 425, 429 and 5xx. Each alert is
 * delivered by its own background task; `notify` only enqueues. Redirects are not followed. At most
 * `maxPending` alerts are in flight; beyond that new alerts are dropped (and logged), so an alert storm
 * cannot exhaust memory.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../logger.js";
import { type Alert, type AlertInput, type AlertSink, createAlert } from "./alert.js";
import { SIGNATURE_HEADER, signBody } from "./signature.js";

export interface WebhookOptions {
  readonly url: string;
  readonly secret: string;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly maxPending?: number;
  /** How long close() waits for deliveries in flight. */
  readonly closeGraceMs?: number;
}

const RETRYABLE = new Set([408, 425, 429]);

export class WebhookAlertSink implements AlertSink {
  private readonly pending = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private dropped = 0;

  constructor(private readonly options: WebhookOptions) {}

  notify(input: AlertInput): void {
    if (this.stop.signal.aborted) return;
    if (this.pending.size >= (this.options.maxPending ?? 100)) {
      this.dropped++;
      this.options.logger.warn(
        { alertType: input.type, dropped: this.dropped },
        "alert dropped: too many deliveries pending",
      );
      return;
    }
    const alert = createAlert(input);
    // Start on a later turn of the event loop: nothing of the delivery (not even fetch's first-use
    // initialisation) runs on the caller's request path.
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.deliver(alert))
      .finally(() => this.pending.delete(task));
    this.pending.add(task);
  }

  async close(): Promise<void> {
    const grace = this.options.closeGraceMs ?? 2000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, grace);
      }),
    ]);
    clearTimeout(timer);
    this.stop.abort();
    await Promise.allSettled([...this.pending]);
  }

  private async deliver(alert: Alert): Promise<void> {
    const body = JSON.stringify(alert);
    const signature = signBody(body, this.options.secret);
    const log = this.options.logger.child({ alertId: alert.id, alertType: alert.type });
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      const outcome = await this.post(body, signature, alert.id);
      if (outcome === "delivered") {
        log.info({ attempt }, "alert delivered");
        return;
      }
      if (outcome === "rejected" || this.stop.signal.aborted) break;
      if (attempt < this.options.maxAttempts) {
        const delay = this.options.retryBaseMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
        // Rejects (AbortError) at once when the sink closes: no more attempts then.
        const slept = await sleep(delay, true, { signal: this.stop.signal }).catch(() => false);
        if (!slept) break;
      }
    }
    log.warn({ attempts: this.options.maxAttempts }, "alert not delivered");
  }

  private async post(body: string, signature: string, id: string): Promise<"delivered" | "retry" | "rejected"> {
    try {
      const response = await fetch(this.options.url, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/json",
          "user-agent": "inline-sandbox-alerts/1",
          [SIGNATURE_HEADER]: signature,
          "X-Sandbox-Alert-Id": id,
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stop.signal]),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return "delivered";
      if (response.status >= 500 || RETRYABLE.has(response.status)) return "retry";
      this.options.logger.warn({ status: response.status }, "alert webhook refused the alert");
      return "rejected";
    } catch {
      return "retry";
    }
  }
}

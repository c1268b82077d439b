/**
 * Every alert is also an operational log line (warn), whether or not a webhook is configured, so
 * an operator without a webhook still sees lockouts and violations.
 */
import type { Logger } from "../logger.js";
import type { AlertInput, AlertSink } from "./alert.js";

export class LoggingAlertSink implements AlertSink {
  constructor(
    private readonly logger: Logger,
    private readonly next?: AlertSink,
  ) {}

  notify(input: AlertInput): void {
    this.logger.warn({ alert: input }, `ops alert: ${input.type}`);
    this.next?.notify(input);
  }

  async close(): Promise<void> {
    await this.next?.close();
  }
}

/**
 * Operational logging (pino). Guest output never goes into a message string: when logged at all it
 * sits under its own key. Secrets and credentials are redacted by path.
 */

import { type DestinationStream, type LoggerOptions, type Logger as PinoLogger, pino } from "pino";
import { BatchedDestination } from "./batched-stdout.js";

export type Logger = PinoLogger;

export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "headers.cookie",
  "authorization",
  "apiKey",
  "*.apiKey",
  "secret",
  "*.secret",
  "alertWebhookSecret",
  "*.alertWebhookSecret",
  "env",
  "*.env",
];

/** Where `npm start` logs go when no destination is given: stdout, in batches (batched-stdout.ts). */
export const STDOUT_BATCHING = { fd: 1, minBytes: 4096, flushMs: 250, promptMs: 5 } as const;

export interface LoggerConfig {
  readonly level: string;
  readonly destination?: DestinationStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { service: "inline-sandbox" },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(options, config.destination ?? new BatchedDestination(STDOUT_BATCHING));
}

/** A logger that drops everything, for tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

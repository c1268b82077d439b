/**
 * Operational logging (pino). Guest output never goes into a message string: when logged at all it
 * sits under its own key. Secrets and credentials are redacted by path.
 */
import { type DestinationStream, type LoggerOptions, type Logger as PinoLogger, pino } from "pino";

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

/**
 * Where `npm start` logs go when no destination is given: stdout, written asynchronously in batches
 * (at least 4 KiB, or whatever accumulated within 250 ms) rather than one write(2) per line. A warm
 * execution logs three lines; one write per line cost the main thread a syscall and a thread-pool
 * wake-up each. Pino flushes the buffer synchronously when the process exits (process.exit, a fatal
 * error); only a SIGKILL or a crash of the runtime itself can lose the last 250 ms of lines. The
 * audit trail never goes through here (it is in the store).
 */
export const STDOUT_DESTINATION = { dest: 1, sync: false, minLength: 4096, periodicFlush: 250 } as const;

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
  return pino(options, config.destination ?? pino.destination(STDOUT_DESTINATION));
}

/** A logger that drops everything, for tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

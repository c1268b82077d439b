/**
 * Configuration: one zod schema, parsed once at startup from the environment and command-line flags
 * (flags win). A bad value stops the server with a readable message naming the variable.
 */
import { availableParallelism } from "node:os";
import { z } from "zod";
import { DEFAULT_LIMITS, type Limits, MAX_LIMITS } from "./sandbox/limits.js";

const MiB = 1024 * 1024;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off"])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

export const configSchema = z
  .object({
    host: z.string().min(1).default("127.0.0.1"),
    port: int(0, 65535).default(8787),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    bodyLimitBytes: int(1024, 512 * MiB).default(10 * MiB),
    workers: int(1, 256).default(availableParallelism()),
    maxQueue: int(0, 100_000).default(256),
    maxWorkerHeapMb: int(64, 16_384).default(512),
    defaultSandbox: z.enum(["wasm", "process"]).default("wasm"),
    processSandbox: bool.default(true),
    /** Extra binaries visible inside the process sandbox besides the interpreter and basic coreutils. */
    processBinaries: z
      .string()
      .transform((s) =>
        s
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .default([]),
    dangerouslyEnableNoopSandbox: bool.default(false),
    defaultTimeoutMs: int(1, 3_600_000).default(DEFAULT_LIMITS.timeoutMs),
    maxTimeoutMs: int(1, 3_600_000).default(MAX_LIMITS.timeoutMs),
    defaultMemoryLimitBytes: int(16 * MiB, 16 * 1024 * MiB).default(DEFAULT_LIMITS.memoryLimitBytes),
    maxMemoryLimitBytes: int(16 * MiB, 16 * 1024 * MiB).default(MAX_LIMITS.memoryLimitBytes),
    defaultMaxOutputBytes: int(1, 1024 * MiB).default(DEFAULT_LIMITS.maxOutputBytes),
    maxMaxOutputBytes: int(1, 1024 * MiB).default(MAX_LIMITS.maxOutputBytes),
    killGraceMs: int(0, 60_000).default(DEFAULT_LIMITS.killGraceMs),
    maxFilesystemBytes: int(0, 16 * 1024 * MiB).default(DEFAULT_LIMITS.maxFilesystemBytes),
  })
  .superRefine((c, ctx) => {
    const pairs: Array<[keyof typeof c, keyof typeof c]> = [
      ["defaultTimeoutMs", "maxTimeoutMs"],
      ["defaultMemoryLimitBytes", "maxMemoryLimitBytes"],
      ["defaultMaxOutputBytes", "maxMaxOutputBytes"],
    ];
    for (const [def, max] of pairs) {
      if ((c[def] as number) > (c[max] as number)) {
        ctx.addIssue({ code: "custom", path: [def], message: `must not exceed ${String(max)} (${String(c[max])})` });
      }
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Environment variable for each configuration key. */
export const ENV_NAMES: Readonly<Record<keyof Config, string>> = {
  host: "HOST",
  port: "PORT",
  logLevel: "SANDBOX_LOG_LEVEL",
  bodyLimitBytes: "SANDBOX_BODY_LIMIT_BYTES",
  workers: "SANDBOX_WORKERS",
  maxQueue: "SANDBOX_MAX_QUEUE",
  maxWorkerHeapMb: "SANDBOX_MAX_WORKER_HEAP_MB",
  defaultSandbox: "SANDBOX_DEFAULT_SANDBOX",
  processSandbox: "SANDBOX_PROCESS_SANDBOX",
  processBinaries: "SANDBOX_PROCESS_BINARIES",
  dangerouslyEnableNoopSandbox: "SANDBOX_DANGEROUSLY_ENABLE_NOOP_SANDBOX",
  defaultTimeoutMs: "SANDBOX_DEFAULT_TIMEOUT_MS",
  maxTimeoutMs: "SANDBOX_MAX_TIMEOUT_MS",
  defaultMemoryLimitBytes: "SANDBOX_DEFAULT_MEMORY_LIMIT_BYTES",
  maxMemoryLimitBytes: "SANDBOX_MAX_MEMORY_LIMIT_BYTES",
  defaultMaxOutputBytes: "SANDBOX_DEFAULT_MAX_OUTPUT_BYTES",
  maxMaxOutputBytes: "SANDBOX_MAX_MAX_OUTPUT_BYTES",
  killGraceMs: "SANDBOX_KILL_GRACE_MS",
  maxFilesystemBytes: "SANDBOX_MAX_FILESYSTEM_BYTES",
};

/** Command-line flags (`--port 9000`, `--host=0.0.0.0`, bare boolean flags). */
const FLAGS: Readonly<Record<string, { key: keyof Config; boolean?: true }>> = {
  "--port": { key: "port" },
  "--host": { key: "host" },
  "--log-level": { key: "logLevel" },
  "--workers": { key: "workers" },
  "--dangerously-enable-noop-sandbox": { key: "dangerouslyEnableNoopSandbox", boolean: true },
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  Object.assign(raw, parseFlags(argv));
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as keyof Config | undefined;
      const where = key ? `${ENV_NAMES[key] ?? key}` : "configuration";
      return `  ${where}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

function parseFlags(argv: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [name = "", inline] = arg.split(/=(.*)/s, 2);
    const flag = FLAGS[name];
    if (!flag) throw new ConfigError(`unknown option ${name}`);
    if (flag.boolean) {
      out[flag.key] = inline ?? "true";
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`option ${name} needs a value`);
    out[flag.key] = value;
  }
  return out;
}

export interface LimitPolicy {
  readonly defaults: Limits;
  readonly maxima: Limits;
}

export function limitPolicy(config: Config): LimitPolicy {
  return {
    defaults: {
      timeoutMs: config.defaultTimeoutMs,
      killGraceMs: config.killGraceMs,
      memoryLimitBytes: config.defaultMemoryLimitBytes,
      maxOutputBytes: config.defaultMaxOutputBytes,
      maxFilesystemBytes: config.maxFilesystemBytes,
    },
    maxima: {
      timeoutMs: config.maxTimeoutMs,
      killGraceMs: config.killGraceMs,
      memoryLimitBytes: config.maxMemoryLimitBytes,
      maxOutputBytes: config.maxMaxOutputBytes,
      maxFilesystemBytes: config.maxFilesystemBytes,
    },
  };
}

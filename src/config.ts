/**
 * Configuration: one zod schema, parsed once at startup from the environment and command-line flags
 * (flags win). A bad value stops the server with a readable message naming the variable.
 */
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { z } from "zod";
import { DEFAULT_EGRESS_LIMITS } from "./egress/limits.js";
import { BUILTIN_DEFAULT_POLICY, ceilingIssues, policySchema } from "./policy/schema.js";
import { DEFAULT_LIMITS, type Limits, MAX_LIMITS } from "./sandbox/limits.js";
import { LANGUAGES, type Language } from "./sandbox/types.js";
import { DEFAULT_RUNNER_OPTIONS } from "./sandbox/wasm/runtime.js";

const MiB = 1024 * 1024;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off"])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));
const list = z.string().transform((s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean),
);

/** `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`. */
function isAddressOrCidr(entry: string): boolean {
  const [address = "", prefix, extra] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

/** An exact browser origin: `https://app.example.com[:port]`, never `*` or `null`. */
function isExactOrigin(entry: string): boolean {
  try {
    const url = new URL(entry);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === entry;
  } catch {
    return false;
  }
}

export const configSchema = z
  .object({
    host: z.string().min(1).default("127.0.0.1"),
    port: int(0, 65535).default(8787),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    bodyLimitBytes: int(1024, 512 * MiB).default(10 * MiB),
    workers: int(1, 256).default(availableParallelism()),
    maxQueue: int(0, 100_000).default(256),
    /** Executions whose guest may wait for a human at once (each holds a parked worker thread). */
    maxWaitingEffects: int(0, 1_000).default(8),
    maxWorkerHeapMb: int(64, 16_384).default(512),
    /** Never-used instances kept ready per language and worker. */
    spares: int(1, 16).default(DEFAULT_RUNNER_OPTIONS.spares),
    /** No spare is prepared in the background while less memory than this is available to the process. */
    spareMinAvailableBytes: int(0, 1024 * 1024 * MiB).default(DEFAULT_RUNNER_OPTIONS.minAvailableMemoryBytes),
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
    /** The languages the wasm sandbox loads (default: all). Fewer start sooner and take less memory. */
    wasmLanguages: list
      .refine((entries) => entries.length > 0, { message: "name at least one language" })
      .refine((entries) => entries.every((entry) => (LANGUAGES as readonly string[]).includes(entry)), {
        message: `entries must be among ${LANGUAGES.join(", ")}`,
      })
      .transform((entries) => [...new Set(entries)] as Language[])
      .default([...LANGUAGES]),
    /**
     * Opt-in on-disk cache of the interpreters' boot snapshots: restarts skip the boots, but reuse
     * the cached interpreter state (string-hash seeds included) until the directory is deleted.
     */
    snapshotCacheDir: z.string().min(1).optional(),
    defaultTimeoutMs: int(1, 3_600_000).default(DEFAULT_LIMITS.timeoutMs),
    maxTimeoutMs: int(1, 3_600_000).default(MAX_LIMITS.timeoutMs),
    defaultMemoryLimitBytes: int(16 * MiB, 16 * 1024 * MiB).default(DEFAULT_LIMITS.memoryLimitBytes),
    maxMemoryLimitBytes: int(16 * MiB, 16 * 1024 * MiB).default(MAX_LIMITS.memoryLimitBytes),
    defaultMaxOutputBytes: int(1, 1024 * MiB).default(DEFAULT_LIMITS.maxOutputBytes),
    maxMaxOutputBytes: int(1, 1024 * MiB).default(MAX_LIMITS.maxOutputBytes),
    killGraceMs: int(0, 60_000).default(DEFAULT_LIMITS.killGraceMs),
    maxFilesystemBytes: int(0, 16 * 1024 * MiB).default(DEFAULT_LIMITS.maxFilesystemBytes),

    // Authentication (docs/api-security.md)
    /** One key with every scope. Never logged. */
    apiKey: z
      .string()
      .min(16, { message: "must be at least 16 characters" })
      .max(512)
      .regex(/^[\x21-\x7e]+$/, { message: "must be visible ASCII without spaces" })
      .optional(),
    apiKeysFile: z.string().min(1).optional(),
    /** Where the first-run key is kept (mode 0600). */
    dataDir: z.string().min(1).default(".data"),
    /** With no key configured and auth on, generate one into dataDir (and print it once). */
    generateApiKey: bool.default(true),
    /** `--no-auth`: every request is served without a key. Explicit opt-in only. */
    noAuth: bool.default(false),
    trustedProxies: list
      .refine((entries) => entries.every(isAddressOrCidr), { message: "entries must be IP addresses or CIDR ranges" })
      .default([]),
    authMaxFailures: int(1, 10_000).default(10),
    authFailureWindowMs: int(100, 86_400_000).default(60_000),
    authLockoutMs: int(100, 86_400_000).default(300_000),

    // Rate limits per key (token bucket) and concurrent executions per key
    rateLimitRequests: int(1, 1_000_000).default(120),
    rateLimitWindowMs: int(1000, 86_400_000).default(60_000),
    maxConcurrentPerKey: int(1, 10_000).default(4),
    maxQueuedPerKey: int(0, 100_000).default(16),

    // HTTP server hardening
    headersTimeoutMs: int(100, 600_000).default(10_000),
    requestTimeoutMs: int(100, 3_600_000).default(60_000),
    keepAliveTimeoutMs: int(100, 600_000).default(5_000),
    maxHeaderBytes: int(1024, 1024 * 1024).default(16 * 1024),
    corsOrigins: list
      .refine((entries) => entries.every(isExactOrigin), {
        message: "entries must be exact origins such as https://app.example.com (no *, no null, no path)",
      })
      .default([]),

    // Ops alerts (signed webhook)
    alertWebhookUrl: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
    alertWebhookSecret: z.string().min(16, { message: "must be at least 16 characters" }).optional(),
    alertMaxAttempts: int(1, 20).default(5),
    alertRetryBaseMs: int(1, 600_000).default(1_000),
    alertTimeoutMs: int(100, 120_000).default(5_000),
    alertLimitHits: int(1, 1_000_000).default(20),
    alertLimitWindowMs: int(1000, 86_400_000).default(300_000),

    // Control plane: store, default policy, secrets, approvals (docs/tools-and-approvals.md)
    /** The SQLite file; default `<dataDir>/inline-sandbox.db`. */
    storePath: z.string().min(1).optional(),
    /**
     * When a commit reaches the disk: `full` fsyncs the WAL on every commit (an acknowledged record
     * survives a power cut); `normal` only at checkpoints (survives a process crash; an OS crash or
     * power loss can drop the last commits). See docs/tools-and-approvals.md#storage.
     */
    storeSync: z.enum(["full", "normal"]).default("full"),
    /** JSON policy for ad-hoc POST /v1/execute. */
    defaultPolicy: z
      .string()
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: "custom", message: "must be a JSON policy object" });
          return z.NEVER;
        }
      })
      .pipe(policySchema)
      .default(policySchema.parse(BUILTIN_DEFAULT_POLICY)),
    /** JSON object `{ "NAME": "value" }` of secrets tools may be granted. */
    secretsFile: z.string().min(1).optional(),
    approvalTtlMs: int(100, 7 * 86_400_000).default(15 * 60_000),
    approvalSweepMs: int(10, 600_000).default(1_000),
    maxWaitMs: int(0, 600_000).default(60_000),
    maxStoredResultBytes: int(1024, 1024 * MiB).default(8 * MiB),

    // Guest HTTP egress (docs/egress.md): caps per call and per execution
    egressTimeoutMs: int(100, 600_000).default(DEFAULT_EGRESS_LIMITS.timeoutMs),
    egressMaxResponseBytes: int(1024, 256 * MiB).default(DEFAULT_EGRESS_LIMITS.maxResponseBytes),
    egressMaxRequests: int(0, 100_000).default(DEFAULT_EGRESS_LIMITS.maxRequests),
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
    if (c.headersTimeoutMs > c.requestTimeoutMs) {
      ctx.addIssue({
        code: "custom",
        path: ["headersTimeoutMs"],
        message: "must not exceed SANDBOX_REQUEST_TIMEOUT_MS",
      });
    }
    if (c.alertWebhookUrl !== undefined && c.alertWebhookSecret === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["alertWebhookSecret"],
        message: "is required when SANDBOX_ALERT_WEBHOOK_URL is set",
      });
    }
    for (const issue of ceilingIssues(c.defaultPolicy, {
      timeoutMs: c.maxTimeoutMs,
      killGraceMs: c.killGraceMs,
      memoryLimitBytes: c.maxMemoryLimitBytes,
      maxOutputBytes: c.maxMaxOutputBytes,
      maxFilesystemBytes: c.maxFilesystemBytes,
    })) {
      ctx.addIssue({ code: "custom", path: ["defaultPolicy"], message: `${issue.path}: ${issue.message}` });
    }
    if (c.noAuth && (c.apiKey !== undefined || c.apiKeysFile !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["noAuth"],
        message: "--no-auth cannot be combined with configured API keys",
      });
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
  maxWaitingEffects: "SANDBOX_MAX_WAITING_EFFECTS",
  maxWorkerHeapMb: "SANDBOX_MAX_WORKER_HEAP_MB",
  spares: "SANDBOX_SPARES",
  spareMinAvailableBytes: "SANDBOX_SPARE_MIN_AVAILABLE_BYTES",
  defaultSandbox: "SANDBOX_DEFAULT_SANDBOX",
  processSandbox: "SANDBOX_PROCESS_SANDBOX",
  processBinaries: "SANDBOX_PROCESS_BINARIES",
  dangerouslyEnableNoopSandbox: "SANDBOX_DANGEROUSLY_ENABLE_NOOP_SANDBOX",
  wasmLanguages: "SANDBOX_WASM_LANGUAGES",
  snapshotCacheDir: "SANDBOX_SNAPSHOT_CACHE_DIR",
  defaultTimeoutMs: "SANDBOX_DEFAULT_TIMEOUT_MS",
  maxTimeoutMs: "SANDBOX_MAX_TIMEOUT_MS",
  defaultMemoryLimitBytes: "SANDBOX_DEFAULT_MEMORY_LIMIT_BYTES",
  maxMemoryLimitBytes: "SANDBOX_MAX_MEMORY_LIMIT_BYTES",
  defaultMaxOutputBytes: "SANDBOX_DEFAULT_MAX_OUTPUT_BYTES",
  maxMaxOutputBytes: "SANDBOX_MAX_MAX_OUTPUT_BYTES",
  killGraceMs: "SANDBOX_KILL_GRACE_MS",
  maxFilesystemBytes: "SANDBOX_MAX_FILESYSTEM_BYTES",
  apiKey: "SANDBOX_API_KEY",
  apiKeysFile: "SANDBOX_API_KEYS_FILE",
  dataDir: "SANDBOX_DATA_DIR",
  generateApiKey: "SANDBOX_GENERATE_API_KEY",
  noAuth: "SANDBOX_DANGEROUSLY_DISABLE_AUTH",
  trustedProxies: "SANDBOX_TRUSTED_PROXIES",
  authMaxFailures: "SANDBOX_AUTH_MAX_FAILURES",
  authFailureWindowMs: "SANDBOX_AUTH_FAILURE_WINDOW_MS",
  authLockoutMs: "SANDBOX_AUTH_LOCKOUT_MS",
  rateLimitRequests: "SANDBOX_RATE_LIMIT_REQUESTS",
  rateLimitWindowMs: "SANDBOX_RATE_LIMIT_WINDOW_MS",
  maxConcurrentPerKey: "SANDBOX_MAX_CONCURRENT_PER_KEY",
  maxQueuedPerKey: "SANDBOX_MAX_QUEUED_PER_KEY",
  headersTimeoutMs: "SANDBOX_HEADERS_TIMEOUT_MS",
  requestTimeoutMs: "SANDBOX_REQUEST_TIMEOUT_MS",
  keepAliveTimeoutMs: "SANDBOX_KEEP_ALIVE_TIMEOUT_MS",
  maxHeaderBytes: "SANDBOX_MAX_HEADER_BYTES",
  corsOrigins: "SANDBOX_CORS_ORIGINS",
  alertWebhookUrl: "SANDBOX_ALERT_WEBHOOK_URL",
  alertWebhookSecret: "SANDBOX_ALERT_WEBHOOK_SECRET",
  alertMaxAttempts: "SANDBOX_ALERT_MAX_ATTEMPTS",
  alertRetryBaseMs: "SANDBOX_ALERT_RETRY_BASE_MS",
  alertTimeoutMs: "SANDBOX_ALERT_TIMEOUT_MS",
  alertLimitHits: "SANDBOX_ALERT_LIMIT_HITS",
  alertLimitWindowMs: "SANDBOX_ALERT_LIMIT_WINDOW_MS",
  storePath: "SANDBOX_STORE_PATH",
  storeSync: "SANDBOX_STORE_SYNC",
  defaultPolicy: "SANDBOX_DEFAULT_POLICY",
  secretsFile: "SANDBOX_SECRETS_FILE",
  approvalTtlMs: "SANDBOX_APPROVAL_TTL_MS",
  approvalSweepMs: "SANDBOX_APPROVAL_SWEEP_MS",
  maxWaitMs: "SANDBOX_MAX_WAIT_MS",
  maxStoredResultBytes: "SANDBOX_MAX_STORED_RESULT_BYTES",
  egressTimeoutMs: "SANDBOX_EGRESS_TIMEOUT_MS",
  egressMaxResponseBytes: "SANDBOX_EGRESS_MAX_RESPONSE_BYTES",
  egressMaxRequests: "SANDBOX_EGRESS_MAX_REQUESTS",
};

/** Command-line flags (`--port 9000`, `--host=0.0.0.0`, bare boolean flags). */
const FLAGS: Readonly<Record<string, { key: keyof Config; boolean?: true }>> = {
  "--port": { key: "port" },
  "--host": { key: "host" },
  "--log-level": { key: "logLevel" },
  "--workers": { key: "workers" },
  "--spares": { key: "spares" },
  "--dangerously-enable-noop-sandbox": { key: "dangerouslyEnableNoopSandbox", boolean: true },
  "--no-auth": { key: "noAuth", boolean: true },
  "--data-dir": { key: "dataDir" },
  "--snapshot-cache-dir": { key: "snapshotCacheDir" },
  "--wasm-languages": { key: "wasmLanguages" },
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

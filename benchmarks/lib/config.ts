/**
 * Benchmark configuration: iteration counts and bounds, from `--name=value` flags or `BENCH_NAME`
 * environment variables (flags win), validated once with zod. `--quick` lowers every count for a
 * smoke run; its numbers are not worth publishing.
 */
import { z } from "zod";
import { LANGUAGES, type Language } from "../../src/sandbox/types.js";

export const SECTIONS = ["cold", "warm", "throughput", "rss", "baselines"] as const;
export type Section = (typeof SECTIONS)[number];

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values)).min(1));

const schema = z.object({
  /** Sections to run. */
  only: csv(SECTIONS).default([...SECTIONS]),
  languages: csv(LANGUAGES).default([...LANGUAGES]),
  /** Sequential warm-start samples per language and path (HTTP, in-process); p99 wants >= 100. */
  samples: count(1, 100_000).default(200),
  /** Wall-time cap of one warm series; a slow runtime then reports fewer samples (n is recorded). */
  warmMaxSeconds: z.coerce.number().min(0.1).max(3_600).default(20),
  /** Executions per language and path before sampling starts (HTTP: before the "just started" series). */
  warmup: count(0, 10_000).default(30),
  /**
   * HTTP executions per language between the "just started" series and the steady-state one (see
   * sections/warm.ts for why this many).
   */
  serverWarmup: count(0, 100_000).default(4_000),
  /** An extra in-process series with this pause between executions (0: none). */
  gapMs: count(0, 10_000).default(10),
  /** Fresh servers started per language for the cold-start measurement. */
  coldRuns: count(1, 20).default(3),
  /** Concurrent HTTP clients per throughput cell. */
  concurrency: z
    .string()
    .transform((s) => s.split(",").map((x) => Number(x.trim())))
    .pipe(z.array(z.number().int().min(1).max(1024)).min(1))
    .default([1, 2, 8, 32]),
  /** Each throughput cell stops at this many seconds or this many executions, whichever comes first. */
  throughputSeconds: z.coerce.number().min(0.1).max(600).default(2.5),
  throughputMaxCount: count(1, 1_000_000).default(5_000),
  /** Samples per language for the native-spawn and ProcessSandbox baselines. */
  baselineSamples: count(1, 10_000).default(30),
  /** Fresh VMs created with @ruby/wasm-wasi's stock glue (each ~0.4 s or more). */
  naiveRubyRuns: count(0, 100).default(5),
  /** Fresh processes each calling loadPyodide() once (each several seconds). 0 skips. */
  pyodideRuns: count(0, 20).default(1),
  /** RSS method: pool with this many workers vs one worker. */
  rssWorkers: count(2, 64).default(4),
  /** RSS per extra spare: one worker keeping this many spares (SANDBOX_SPARES) against one keeping 1. */
  rssSpares: count(2, 16).default(5),
  /** Idle time before RSS is read, so spares are refilled and transient garbage settles. */
  rssSettleMs: count(0, 60_000).default(2_000),
  /** Worker threads of the server and the in-process sandbox; default: the server's default (cores). */
  workers: count(1, 256).optional(),
  /** Log level of the spawned server (its logs go to a file in its temp dir). */
  serverLogLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Repository root whose dist/ is benchmarked (default: this checkout). */
  root: z.string().min(1).optional(),
  /** Write benchmarks.md and latest.json into this directory instead of docs/ and benchmarks/results/. */
  out: z.string().min(1).optional(),
});

export type BenchConfig = z.infer<typeof schema> & { readonly quick: boolean };

const QUICK: Record<string, string> = {
  samples: "40",
  warmup: "5",
  serverWarmup: "20",
  warmMaxSeconds: "5",
  throughputSeconds: "0.8",
  throughputMaxCount: "500",
  baselineSamples: "5",
  naiveRubyRuns: "1",
  coldRuns: "1",
  pyodideRuns: "0",
  rssSettleMs: "500",
};

function envName(key: string): string {
  return `BENCH_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export class BenchConfigError extends Error {}

export function loadBenchConfig(argv: readonly string[], env: NodeJS.ProcessEnv): BenchConfig {
  const keys = Object.keys(schema.shape);
  const raw: Record<string, string> = {};
  const quick = argv.includes("--quick") || env.BENCH_QUICK === "1";
  if (quick) Object.assign(raw, QUICK);
  for (const key of keys) {
    const value = env[envName(key)];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  for (const arg of argv) {
    if (arg === "--quick") continue;
    const match = /^--([a-zA-Z]+)=(.*)$/.exec(arg);
    if (!match || !keys.includes(match[1] as string)) {
      throw new BenchConfigError(`unknown argument ${arg}; known: --quick ${keys.map((k) => `--${k}=`).join(" ")}`);
    }
    raw[match[1] as string] = match[2] as string;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new BenchConfigError(`invalid benchmark configuration: ${issues}`);
  }
  return { ...parsed.data, quick };
}

export function wants(config: BenchConfig, section: Section): boolean {
  return config.only.includes(section);
}

export function languagesOf(config: BenchConfig): readonly Language[] {
  return config.languages;
}

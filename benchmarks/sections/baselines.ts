/**
 * Baselines measured in the same run: the native interpreter spawned per execution, ProcessSandbox
 * (bubblewrap) per execution, ruby.wasm initialised with its stock glue, and Pyodide's loadPyodide().
 */
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import { DEFAULT_SEARCH_PATH } from "../../src/sandbox/process/host-binaries.js";
import type { Language } from "../../src/sandbox/types.js";
import type { BenchConfig } from "../lib/config.js";
import type { Dist } from "../lib/dist.js";
import { runProbe } from "../lib/proc.js";
import { EXPECTED_STDOUT, NATIVE_COMMANDS, printOneRequest } from "../lib/programs.js";
import type { Progress } from "../lib/progress.js";
import {
  type Baselines,
  isUnavailable,
  type Maybe,
  type NaivePyodide,
  type NaiveRubyWasm,
  type PerLanguage,
  type SampledLatency,
  unavailable,
} from "../lib/results.js";
import { type Attempt, sampleSequential } from "../lib/sampling.js";
import { median, since } from "../lib/stats.js";

/**
 * A clean environment for the native interpreters. PATH is ProcessSandbox's search path, so the
 * baseline runs the same system interpreters it does, never a version manager's shims from the
 * caller's PATH (a pyenv shim plus a site .pth made `python3 -c 'print(1)'` ~150 ms here, /usr/bin's ~20 ms).
 */
const NATIVE_ENV: NodeJS.ProcessEnv = {
  PATH: DEFAULT_SEARCH_PATH.join(":"),
  HOME: tmpdir(),
  LANG: "C.UTF-8",
};

const probePath = (name: string) => fileURLToPath(new URL(`../probes/${name}`, import.meta.url));

function spawnOnce(argv: readonly [string, ...string[]]): Promise<Attempt> {
  return new Promise((resolve) => {
    const started = performance.now();
    const [command, ...args] = argv;
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"], env: NATIVE_ENV, cwd: tmpdir() });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.once("error", (error) => resolve({ ok: false, ms: since(started), failure: error.message }));
    child.once("close", (code) => {
      const ms = since(started);
      resolve(code === 0 && stdout === EXPECTED_STDOUT ? { ok: true, ms } : { ok: false, ms, failure: `exit ${code}` });
    });
  });
}

function describe(result: Maybe<SampledLatency>): string {
  return isUnavailable(result) ? `unavailable (${result.unavailable})` : `p50 ${result.p50Ms} ms`;
}

async function nativeSpawn(config: BenchConfig, progress: Progress) {
  const results: Baselines["native"] = {};
  for (const language of config.languages) {
    const argv = NATIVE_COMMANDS[language];
    const result = await sampleSequential(() => spawnOnce(argv), {
      warmup: Math.min(3, config.warmup),
      samples: config.baselineSamples,
    });
    const command = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");
    results[language] = isUnavailable(result) ? result : { ...result, command };
    progress(`native ${command}: ${describe(result)}`);
  }
  return results;
}

async function processSandbox(dist: Dist, config: BenchConfig, progress: Progress) {
  const results: PerLanguage<SampledLatency> = {};
  const sandbox = await dist.processSandbox.ProcessSandbox.create({ runtimes: dist.processRuntimes.PROCESS_RUNTIMES });
  try {
    const availability = sandbox.availability();
    const loaded = new Set(sandbox.languages().map((l) => l.language));
    for (const language of config.languages) {
      if (!availability.available || !loaded.has(language)) {
        results[language] = unavailable(availability.available ? "interpreter not found" : availability.reason);
        continue;
      }
      const attempt = async (lang: Language): Promise<Attempt> => {
        const started = performance.now();
        try {
          const r = await sandbox.execute(printOneRequest(lang), { limits: DEFAULT_LIMITS });
          const ms = since(started);
          return r.exitCode === 0 && r.stdout === EXPECTED_STDOUT
            ? { ok: true, ms }
            : { ok: false, ms, failure: r.error?.message ?? r.stderr.slice(0, 200) };
        } catch (error) {
          return { ok: false, ms: since(started), failure: error instanceof Error ? error.message : String(error) };
        }
      };
      const result = await sampleSequential(() => attempt(language), {
        warmup: Math.min(3, config.warmup),
        samples: config.baselineSamples,
      });
      results[language] = result;
      progress(`ProcessSandbox ${language}: ${describe(result)}`);
    }
  } finally {
    await sandbox[Symbol.asyncDispose]();
  }
  return results;
}

async function naiveRubyWasm(config: BenchConfig, progress: Progress): Promise<Maybe<NaiveRubyWasm>> {
  try {
    const result = await runProbe<NaiveRubyWasm>(
      probePath("naive-ruby-wasm.ts"),
      [String(config.naiveRubyRuns)],
      300_000,
    );
    progress(`naive ruby.wasm: compile ${result.compileMs} ms, init p50 ${result.init.p50Ms} ms`);
    return result;
  } catch (error) {
    progress(`naive ruby.wasm: unavailable (${error instanceof Error ? error.message : String(error)})`);
    return unavailable(error);
  }
}

async function naivePyodide(config: BenchConfig, progress: Progress): Promise<Maybe<NaivePyodide>> {
  const loadMs: number[] = [];
  const firstRunMs: number[] = [];
  let version = "unknown";
  try {
    for (let i = 0; i < config.pyodideRuns; i++) {
      const run = await runProbe<{ loadMs: number; firstRunMs: number; version: string }>(
        probePath("naive-pyodide.ts"),
        [],
        300_000,
      );
      loadMs.push(run.loadMs);
      firstRunMs.push(run.firstRunMs);
      version = run.version;
      progress(`naive Pyodide ${version}: loadPyodide() ${run.loadMs} ms`);
    }
  } catch (error) {
    progress(`naive Pyodide: unavailable (${error instanceof Error ? error.message : String(error)})`);
    return unavailable(error);
  }
  return { loadMs, firstRunMs, medianLoadMs: median(loadMs), version };
}

export async function measureBaselines(dist: Dist, config: BenchConfig, progress: Progress): Promise<Baselines> {
  const native = await nativeSpawn(config, progress);
  const process = await processSandbox(dist, config, progress);
  const ruby = config.naiveRubyRuns > 0 ? await naiveRubyWasm(config, progress) : undefined;
  const pyodide = config.pyodideRuns > 0 ? await naivePyodide(config, progress) : undefined;
  return {
    native,
    processSandbox: process,
    ...(ruby === undefined ? {} : { naiveRubyWasm: ruby }),
    ...(pyodide === undefined ? {} : { naivePyodide: pyodide }),
  };
}

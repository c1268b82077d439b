/**
 * Cold start: a fresh server process per language and run; time from just before the spawn until
 * /readyz reports the language `available` (the server loads languages one by one and each is
 * usable as soon as it loaded; /readyz's 200 waits for all of them) and to the first successful
 * execution of that language (sent as soon as /readyz reports it available).
 *
 * Then the same with SANDBOX_WASM_LANGUAGES set to that language alone (nothing else loads beside
 * it), and the same with a warm snapshot cache: one server started with SANDBOX_SNAPSHOT_CACHE_DIR set
 * to a new directory fills it (its loaders write each boot's result before they report the language
 * loaded, so /readyz's 200 means every file is written) and is stopped; each measured start then
 * uses that directory. The default (no cache) is the number checked against the target.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchConfig } from "../lib/config.js";
import type { Dist } from "../lib/dist.js";
import type { Progress } from "../lib/progress.js";
import {
  type ColdStart,
  type ColdStartRun,
  type ColdStartSeries,
  isUnavailable,
  type Maybe,
  type PerLanguage,
  unavailable,
} from "../lib/results.js";
import { SpawnedServer } from "../lib/server.js";
import { median, round, since } from "../lib/stats.js";

type BenchLanguage = BenchConfig["languages"][number];

async function coldRun(dist: Dist, config: BenchConfig, language: BenchLanguage, env: Record<string, string> = {}) {
  const withCache = env.SANDBOX_SNAPSHOT_CACHE_DIR !== undefined;
  const { server, readyMs, started } = await SpawnedServer.start({
    mainScript: dist.mainScript,
    logLevel: config.serverLogLevel,
    readyWhen: (status, body) => status === 200 || languageAvailable(body, language),
    env,
    ...(config.workers === undefined ? {} : { workers: config.workers }),
  });
  try {
    const execution = await server.printOne(language);
    const firstResultMs = since(started);
    if (!execution.ok) {
      const { unavailable: missing } = await server.wasmLanguages();
      const reason = missing.get(language);
      throw new Error(reason ? `not loaded by the server: ${reason}` : `first execution failed: ${execution.failure}`);
    }
    const run: ColdStartRun = {
      readyMs: round(readyMs),
      firstResultMs: round(firstResultMs),
      firstExecutionMs: round(execution.ms),
      rssBytes: server.rssBytes(),
    };
    if (!withCache) return run;
    // The server's log is complete once it stopped (its destination flushes on exit).
    await server.stop({ keepLog: true });
    return { ...run, snapshotCache: snapshotCacheEvents(readFileSync(server.logPath, "utf8"), language) };
  } finally {
    await server.stop();
  }
}

/** The snapshot cache's hits and misses for `language` in a server's JSON log. */
export function snapshotCacheEvents(log: string, language: string): { hits: number; misses: number } {
  let hits = 0;
  let misses = 0;
  for (const line of log.split("\n")) {
    if (!line.includes("snapshot cache")) continue;
    let entry: { msg?: unknown; language?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.language !== language) continue;
    if (entry.msg === "snapshot cache hit") hits++;
    else if (entry.msg === "snapshot cache miss") misses++;
  }
  return { hits, misses };
}

/** Whether a /readyz body says the wasm sandbox has `language` available. */
export function languageAvailable(body: unknown, language: string): boolean {
  if (typeof body !== "object" || body === null) return false;
  const sandboxes = (body as { sandboxes?: Record<string, Record<string, string> | undefined> }).sandboxes;
  return sandboxes?.wasm?.[language] === "available";
}

/** `coldRuns` starts of one language; the medians. */
async function series(
  dist: Dist,
  config: BenchConfig,
  language: BenchLanguage,
  label: string,
  progress: Progress,
  env: Record<string, string> = {},
): Promise<Maybe<ColdStartSeries>> {
  const runs: ColdStartRun[] = [];
  try {
    for (let i = 0; i < config.coldRuns; i++) {
      const run = await coldRun(dist, config, language, env);
      const cache = run.snapshotCache
        ? ` (snapshot cache: ${run.snapshotCache.hits} hit, ${run.snapshotCache.misses} miss)`
        : "";
      progress(`${label} ${language}: ready ${run.readyMs} ms, first result ${run.firstResultMs} ms${cache}`);
      runs.push(run);
    }
    return {
      runs,
      firstResultMs: median(runs.map((r) => r.firstResultMs)),
      readyMs: median(runs.map((r) => r.readyMs)),
    };
  } catch (error) {
    progress(`${label} ${language}: unavailable (${error instanceof Error ? error.message : String(error)})`);
    return unavailable(error);
  }
}

/** Starts one server on the new cache directory and waits until every language loaded (and was stored). */
async function fillSnapshotCache(dist: Dist, config: BenchConfig, dir: string, progress: Progress): Promise<void> {
  const { server, readyMs } = await SpawnedServer.start({
    mainScript: dist.mainScript,
    logLevel: config.serverLogLevel,
    env: { SANDBOX_SNAPSHOT_CACHE_DIR: dir },
    ...(config.workers === undefined ? {} : { workers: config.workers }),
  });
  progress(`snapshot cache filled by a server ready in ${Math.round(readyMs)} ms`);
  await server.stop();
}

export async function measureColdStart(dist: Dist, config: BenchConfig, progress: Progress) {
  const results: PerLanguage<ColdStart> = {};
  const cacheDir = mkdtempSync(join(tmpdir(), "inline-sandbox-snapshot-cache-"));
  let filled: Maybe<object> = {};
  try {
    await fillSnapshotCache(dist, config, cacheDir, progress);
  } catch (error) {
    progress(`snapshot cache: not filled (${error instanceof Error ? error.message : String(error)})`);
    filled = unavailable(error);
  }
  try {
    for (const language of config.languages) {
      const plain = await series(dist, config, language, "cold start", progress);
      if (isUnavailable(plain)) {
        results[language] = plain;
        continue;
      }
      const onlyThisLanguage = await series(dist, config, language, "cold start, only this language", progress, {
        SANDBOX_WASM_LANGUAGES: language,
      });
      const warmSnapshotCache = isUnavailable(filled)
        ? filled
        : await series(dist, config, language, "cold start, warm snapshot cache", progress, {
            SANDBOX_SNAPSHOT_CACHE_DIR: cacheDir,
          });
      results[language] = { ...plain, onlyThisLanguage, warmSnapshotCache };
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  return results;
}

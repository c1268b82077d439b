/**
 * Cold start: a fresh server process per language and run; time from just before the spawn until
 * /readyz reports the language `available` (the server loads languages one by one and each is
 * usable as soon as it loaded; /readyz's 200 waits for all of them) and to the first successful
 * execution of that language (sent as soon as /readyz reports it available).
 */
import type { BenchConfig } from "../lib/config.js";
import type { Dist } from "../lib/dist.js";
import type { Progress } from "../lib/progress.js";
import { type ColdStart, type ColdStartRun, type Maybe, type PerLanguage, unavailable } from "../lib/results.js";
import { SpawnedServer } from "../lib/server.js";
import { median, round, since } from "../lib/stats.js";

async function coldRun(dist: Dist, config: BenchConfig, language: BenchConfig["languages"][number]) {
  const { server, readyMs, started } = await SpawnedServer.start({
    mainScript: dist.mainScript,
    logLevel: config.serverLogLevel,
    readyWhen: (status, body) => status === 200 || languageAvailable(body, language),
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
    return run;
  } finally {
    await server.stop();
  }
}

/** Whether a /readyz body says the wasm sandbox has `language` available. */
export function languageAvailable(body: unknown, language: string): boolean {
  if (typeof body !== "object" || body === null) return false;
  const sandboxes = (body as { sandboxes?: Record<string, Record<string, string> | undefined> }).sandboxes;
  return sandboxes?.wasm?.[language] === "available";
}

export async function measureColdStart(dist: Dist, config: BenchConfig, progress: Progress) {
  const results: PerLanguage<ColdStart> = {};
  for (const language of config.languages) {
    const runs: ColdStartRun[] = [];
    let result: Maybe<ColdStart>;
    try {
      for (let i = 0; i < config.coldRuns; i++) {
        const run = await coldRun(dist, config, language);
        progress(`cold start ${language}: ready ${run.readyMs} ms, first result ${run.firstResultMs} ms`);
        runs.push(run);
      }
      result = {
        runs,
        firstResultMs: median(runs.map((r) => r.firstResultMs)),
        readyMs: median(runs.map((r) => r.readyMs)),
      };
    } catch (error) {
      progress(`cold start ${language}: unavailable (${error instanceof Error ? error.message : String(error)})`);
      result = unavailable(error);
    }
    results[language] = result;
  }
  return results;
}

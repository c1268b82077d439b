/**
 * Throughput: `c` concurrent HTTP clients on loopback, each sending the print(1) program again as
 * soon as its previous answer arrived (closed loop), every execution in a fresh instance. A cell
 * ends after `throughputSeconds` or `throughputMaxCount` executions, whichever comes first;
 * executions/s counts successful executions over the wall time of the cell. The same closed loop
 * runs in-process against WasmSandbox.execute (measureThroughputCells), to tell the HTTP layer's
 * cost from the pool's.
 */
import type { BenchConfig } from "../lib/config.js";
import type { Progress } from "../lib/progress.js";
import { type PerLanguage, type ThroughputCell, unavailable } from "../lib/results.js";
import type { Attempt } from "../lib/sampling.js";
import type { SpawnedServer } from "../lib/server.js";
import { round, since, summarize } from "../lib/stats.js";

async function cell(
  attempt: () => Promise<Attempt>,
  concurrency: number,
  config: BenchConfig,
): Promise<ThroughputCell> {
  // Warm-up at this concurrency: connections opened, every worker busy once.
  await Promise.all(Array.from({ length: concurrency }, attempt));
  const latencies: number[] = [];
  let issued = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const stopAt = started + config.throughputSeconds * 1000;
  const client = async () => {
    while (issued < config.throughputMaxCount && performance.now() < stopAt) {
      issued++;
      const result = await attempt();
      if (result.ok) latencies.push(result.ms);
      else {
        failures++;
        firstFailure ??= result.failure;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = since(started) / 1000;
  return {
    concurrency,
    executions: latencies.length,
    failures,
    seconds: round(seconds, 3),
    perSecond: round(latencies.length / seconds, 1),
    ...(latencies.length > 0 ? { latency: summarize(latencies) } : {}),
    ...(firstFailure === undefined ? {} : { firstFailure: firstFailure.slice(0, 300) }),
  };
}

export async function measureThroughput(server: SpawnedServer, config: BenchConfig, progress: Progress) {
  const results: PerLanguage<{ cells: ThroughputCell[] }> = {};
  const { available, unavailable: missing } = await server.wasmLanguages();
  for (const language of config.languages) {
    if (!available.has(language)) {
      results[language] = unavailable(`not loaded by the server: ${missing.get(language) ?? "unknown"}`);
      continue;
    }
    results[language] = {
      cells: await measureThroughputCells(
        () => server.printOne(language),
        config,
        (c) => {
          progress(
            `throughput ${language} x${c.concurrency}: ${c.perSecond}/s (${c.executions} ok, ${c.failures} failed)`,
          );
        },
      ),
    };
  }
  return results;
}

/** One cell per configured concurrency level, in order. */
export async function measureThroughputCells(
  attempt: () => Promise<Attempt>,
  config: BenchConfig,
  report: (cell: ThroughputCell) => void,
): Promise<ThroughputCell[]> {
  const cells: ThroughputCell[] = [];
  for (const concurrency of config.concurrency) {
    const result = await cell(attempt, concurrency, config);
    report(result);
    cells.push(result);
  }
  return cells;
}

/**
 * RSS per idle pooled instance. A process's RSS cannot be split by thread, so the cost of what one
 * worker holds idle is measured by difference: a probe process per (languages, workers) pair, RSS
 * with N workers minus RSS with 1 worker, divided by N - 1. With no language loaded that is the bare
 * worker thread; with one language loaded it is the worker thread plus that language's runner, its
 * copy of the runtime assets and its pre-warmed spare instance(s). Their difference is reported as
 * the RSS per idle pooled instance: an upper bound, since it also holds per-worker runner state.
 */
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "../lib/config.js";
import type { Dist } from "../lib/dist.js";
import { runProbe } from "../lib/proc.js";
import type { Progress } from "../lib/progress.js";
import {
  isUnavailable,
  type Maybe,
  type PerLanguage,
  type RssPerLanguage,
  type RssProbe,
  type RssResult,
  unavailable,
} from "../lib/results.js";

const PROBE = fileURLToPath(new URL("../probes/rss-probe.ts", import.meta.url));
const MiB = 1024 * 1024;

export const RSS_METHOD =
  "(VmRSS with N workers - VmRSS with 1 worker) / (N - 1), one language loaded per probe process, idle after every worker ran it twice; minus the same for a pool with no language (bare worker thread)";

async function probe(dist: Dist, languages: string, workers: number, config: BenchConfig): Promise<Maybe<RssProbe>> {
  try {
    return await runProbe<RssProbe>(
      PROBE,
      [dist.root, languages, String(workers), String(config.rssSettleMs)],
      300_000,
    );
  } catch (error) {
    return unavailable(error);
  }
}

async function perWorker(
  dist: Dist,
  languages: string,
  config: BenchConfig,
  probes: RssProbe[],
): Promise<Maybe<{ bytes: number }>> {
  const one = await probe(dist, languages, 1, config);
  if (isUnavailable(one)) return one;
  const many = await probe(dist, languages, config.rssWorkers, config);
  if (isUnavailable(many)) return many;
  probes.push(one, many);
  return { bytes: Math.round((many.rssBytes - one.rssBytes) / (config.rssWorkers - 1)) };
}

export async function measureRss(dist: Dist, config: BenchConfig, progress: Progress): Promise<RssResult> {
  const probes: RssProbe[] = [];
  const bare = await perWorker(dist, "none", config, probes);
  progress(`RSS bare worker: ${isUnavailable(bare) ? bare.unavailable : `${(bare.bytes / MiB).toFixed(1)} MiB`}`);
  const perLanguage: PerLanguage<RssPerLanguage> = {};
  for (const language of config.languages) {
    const worker = await perWorker(dist, language, config, probes);
    if (isUnavailable(worker)) {
      perLanguage[language] = worker;
      progress(`RSS ${language}: unavailable (${worker.unavailable})`);
      continue;
    }
    const instance = isUnavailable(bare) ? worker.bytes : worker.bytes - bare.bytes;
    perLanguage[language] = { perWorkerBytes: worker.bytes, perPooledInstanceBytes: instance };
    progress(
      `RSS ${language}: ${(worker.bytes / MiB).toFixed(1)} MiB per worker, ${(instance / MiB).toFixed(1)} MiB per pooled instance`,
    );
  }
  return { method: RSS_METHOD, workers: config.rssWorkers, bareWorkerBytes: bare, perLanguage, probes };
}

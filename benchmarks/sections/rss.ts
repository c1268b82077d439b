/**
 * RSS per idle pooled instance. A process's RSS cannot be split by thread, so the cost of what one
 * worker holds idle is measured by difference: a probe process per (languages, workers) pair, RSS
 * with N workers minus RSS with 1 worker, divided by N - 1. With no language loaded that is the bare
 * worker thread; with one language loaded it is the worker thread plus that language's runner, its
 * copy of the runtime assets and its pre-warmed spare instance(s). Their difference is reported as
 * the RSS per idle pooled instance: an upper bound, since it also holds per-worker runner state.
 *
 * Per extra spare (shown, not checked): one worker keeping `rssSpares` spares per language against
 * one keeping 1, divided by the difference in spares; only the spares differ. Not for Bash, which
 * keeps one instance per worker whatever SANDBOX_SPARES says.
 */
import { fileURLToPath } from "node:url";
import type { Language } from "../../src/sandbox/types.js";
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

async function probe(
  dist: Dist,
  languages: string,
  workers: number,
  config: BenchConfig,
  spares = 1,
): Promise<Maybe<RssProbe>> {
  try {
    return await runProbe<RssProbe>(
      PROBE,
      [dist.root, languages, String(workers), String(config.rssSettleMs), String(spares)],
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
): Promise<Maybe<{ bytes: number; one: RssProbe }>> {
  const one = await probe(dist, languages, 1, config);
  if (isUnavailable(one)) return one;
  const many = await probe(dist, languages, config.rssWorkers, config);
  if (isUnavailable(many)) return many;
  probes.push(one, many);
  return { bytes: Math.round((many.rssBytes - one.rssBytes) / (config.rssWorkers - 1)), one };
}

/** (RSS of one worker keeping config.rssSpares spares - `one`, which keeps 1) per extra spare. */
async function perSpare(
  dist: Dist,
  language: Language,
  config: BenchConfig,
  one: RssProbe,
  probes: RssProbe[],
): Promise<Maybe<{ bytes: number }>> {
  const more = await probe(dist, language, 1, config, config.rssSpares);
  if (isUnavailable(more)) return more;
  probes.push(more);
  return { bytes: Math.round((more.rssBytes - one.rssBytes) / (config.rssSpares - 1)) };
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
    const spare = language === "bash" ? undefined : await perSpare(dist, language, config, worker.one, probes);
    perLanguage[language] = {
      perWorkerBytes: worker.bytes,
      perPooledInstanceBytes: instance,
      ...(spare === undefined ? {} : { perSpare: spare }),
    };
    const spareText =
      spare === undefined || isUnavailable(spare) ? "" : `, ${(spare.bytes / MiB).toFixed(1)} MiB per extra spare`;
    progress(
      `RSS ${language}: ${(worker.bytes / MiB).toFixed(1)} MiB per worker, ${(instance / MiB).toFixed(1)} MiB per pooled instance${spareText}`,
    );
  }
  return {
    method: RSS_METHOD,
    workers: config.rssWorkers,
    spares: config.rssSpares,
    bareWorkerBytes: bare,
    perLanguage,
    probes,
  };
}

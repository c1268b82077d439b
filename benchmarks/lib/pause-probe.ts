/**
 * The machine's own cost of idling: a fixed piece of CPU-only JavaScript (a JSON round trip of a
 * fixed document, ~1 ms here), timed in the benchmark process back-to-back and after the same pause
 * the checked warm series take before each execution. Nothing of the service runs meanwhile.
 *
 * Why it is measured: on this 2-vCPU Firecracker VM that work took 1.24 ms back-to-back, 1.39 ms
 * after 3 ms pauses, 1.81 ms after 10 ms and 2.16 ms after 50 ms (p50 of 300 each, one run): a
 * core that halted in between comes back slower (its caches and predictors cold, the host's core
 * perhaps another). Every step of a paused warm execution (the HTTP parse, the store, the sandbox,
 * the reply) carries that factor, so the ratio is printed next to the paused series (issue 5:
 * report ratios against a baseline measured in the same run).
 */
import { isUnavailable, type PauseProbeResult } from "./results.js";
import { sampleSequential } from "./sampling.js";
import { round } from "./stats.js";

/** The fixed document: 200 small records, ~16 KiB of JSON. */
const DOCUMENT = {
  records: Array.from({ length: 200 }, (_, i) => ({
    id: i,
    name: `record-${i}`,
    values: [i, i * 2, { text: "q".repeat(20) }],
  })),
};

/** The probe's work: six JSON round trips of DOCUMENT (CPU and allocation only, no I/O). */
export function probeWork(): number {
  let size = 0;
  for (let i = 0; i < 6; i++) {
    const text = JSON.stringify(DOCUMENT);
    size += (JSON.parse(text) as typeof DOCUMENT).records.length + text.length;
  }
  return size;
}

export interface PauseProbeOptions {
  /** The pause before each timed run of the paused series (the warm series' pause). */
  readonly pauseMs: number;
  readonly samples: number;
  /** Untimed runs first (V8 optimises the work). */
  readonly warmup: number;
  /** Tests inject a workload and a clock. */
  readonly work?: () => unknown;
  readonly now?: () => number;
}

export async function measurePauseProbe(options: PauseProbeOptions): Promise<PauseProbeResult> {
  const work = options.work ?? probeWork;
  const now = options.now ?? (() => performance.now());
  const attempt = async () => {
    const started = now();
    work();
    return { ok: true, ms: now() - started };
  };
  const backToBack = await sampleSequential(attempt, { warmup: options.warmup, samples: options.samples });
  const paused = await sampleSequential(attempt, { warmup: 0, samples: options.samples, gapMs: options.pauseMs });
  if (isUnavailable(backToBack)) return backToBack;
  if (isUnavailable(paused)) return paused;
  return {
    pauseMs: options.pauseMs,
    backToBackP50Ms: backToBack.p50Ms,
    pausedP50Ms: paused.p50Ms,
    ratio: round(paused.p50Ms / backToBack.p50Ms),
  };
}

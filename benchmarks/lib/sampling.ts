/** Sequential sampling of one operation: warm up, then time `samples` successful runs. */
import type { Maybe, SampledLatency } from "./results.js";
import { summarize } from "./stats.js";

export interface Attempt {
  readonly ok: boolean;
  readonly ms: number;
  readonly failure?: string;
  /** The part of `ms` the server says it spent in the sandbox (HTTP only). */
  readonly innerMs?: number;
}

export interface SampleOptions {
  readonly warmup: number;
  readonly samples: number;
  /** Pause between runs (0: back-to-back). */
  readonly gapMs?: number;
  /** Stop sampling after this much wall time even if fewer samples were taken (keeps slow runtimes bounded). */
  readonly maxSeconds?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` sequentially. Failures are counted, never timed; when more than half the attempts
 * fail the measurement is reported unavailable with the first failure. The warm-up is not time-capped.
 */
export async function sampleSequential(
  attempt: () => Promise<Attempt>,
  options: SampleOptions,
): Promise<Maybe<SampledLatency>> {
  let firstFailure: string | undefined;
  let failures = 0;
  for (let i = 0; i < options.warmup; i++) {
    const result = await attempt();
    if (!result.ok) {
      failures++;
      firstFailure ??= result.failure;
      if (failures > options.warmup / 2) return { unavailable: `warm-up failed: ${firstFailure ?? "unknown"}` };
    }
  }
  failures = 0;
  const times: number[] = [];
  const inner: number[] = [];
  const maxAttempts = options.samples * 2;
  const stopAt = performance.now() + (options.maxSeconds ?? Number.POSITIVE_INFINITY) * 1000;
  for (let i = 0; times.length < options.samples && i < maxAttempts && performance.now() < stopAt; i++) {
    if (options.gapMs && options.gapMs > 0) await sleep(options.gapMs);
    const result = await attempt();
    if (result.ok) {
      times.push(result.ms);
      if (result.innerMs !== undefined) inner.push(result.innerMs);
    } else {
      failures++;
      firstFailure ??= result.failure;
    }
  }
  if (times.length === 0 || failures > times.length) {
    return { unavailable: `${failures} of ${times.length + failures} runs failed: ${firstFailure ?? "unknown"}` };
  }
  const innerP50 = inner.length === times.length ? { sandboxP50Ms: summarize(inner).p50Ms } : {};
  return { ...summarize(times), failures, ...innerP50 };
}

/**
 * The targets of issue 5, checked against one run's results. Each check says met, or missed by
 * how much, or why it could not be measured. Timing targets are checked here, never in unit tests.
 */
import type { Language } from "../../src/sandbox/types.js";
import { type BenchResults, isUnavailable, type Maybe, type TargetCheck } from "./results.js";

const MiB = 1024 * 1024;

export const WARM_HTTP_P50_GOAL_MS: Readonly<Record<Language, number>> = {
  javascript: 3,
  python: 3,
  ruby: 3,
  bash: 8,
};
export const NATIVE_PYTHON_SPEEDUP_GOAL = 5;
export const PYTHON_THROUGHPUT_GOAL_PER_S = 200;
export const COLD_START_GOAL_MS = 2_000;
export const POOLED_INSTANCE_RSS_GOAL_BYTES = 64 * MiB;

interface Unit {
  readonly format: (value: number) => string;
}

export const MS: Unit = { format: (v) => `${v.toFixed(2)} ms` };
export const PER_S: Unit = { format: (v) => `${v.toFixed(1)}/s` };
export const TIMES: Unit = { format: (v) => `${v.toFixed(1)}x` };
export const MIB: Unit = { format: (v) => `${(v / MiB).toFixed(1)} MiB` };

type Measured = Maybe<{ readonly value: number; readonly note?: string }>;

function notMeasured(id: string, description: string, goal: string, reason: string): TargetCheck {
  return { id, description, goal, measured: "n/a", met: null, verdict: `not measured: ${reason}` };
}

/** value <= goal. */
export function atMost(id: string, description: string, goal: number, unit: Unit, measured: Measured): TargetCheck {
  const goalText = `<= ${unit.format(goal)}`;
  if (isUnavailable(measured)) return notMeasured(id, description, goalText, measured.unavailable);
  const { value } = measured;
  const text = unit.format(value) + (measured.note ? ` (${measured.note})` : "");
  if (value <= goal) return { id, description, goal: goalText, measured: text, met: true, verdict: "met" };
  const ratio = goal > 0 ? ` (${(value / goal).toFixed(1)}x the goal)` : "";
  return {
    id,
    description,
    goal: goalText,
    measured: text,
    met: false,
    verdict: `missed by ${unit.format(value - goal)}${ratio}`,
  };
}

/** value >= goal. */
export function atLeast(id: string, description: string, goal: number, unit: Unit, measured: Measured): TargetCheck {
  const goalText = `>= ${unit.format(goal)}`;
  if (isUnavailable(measured)) return notMeasured(id, description, goalText, measured.unavailable);
  const { value } = measured;
  const text = unit.format(value) + (measured.note ? ` (${measured.note})` : "");
  if (value >= goal) return { id, description, goal: goalText, measured: text, met: true, verdict: "met" };
  return {
    id,
    description,
    goal: goalText,
    measured: text,
    met: false,
    verdict: `missed by ${unit.format(goal - value)} (${Math.round((value / goal) * 100)}% of the goal)`,
  };
}

const missing = (what: string): Measured => ({ unavailable: `${what} was not run` });

function warmHttpP50(results: BenchResults, language: Language): Measured {
  const warm = results.warm?.http[language];
  if (warm === undefined) return missing("warm HTTP");
  return isUnavailable(warm) ? warm : { value: warm.p50Ms };
}

export function checkTargets(results: Omit<BenchResults, "targets">): TargetCheck[] {
  const full = { ...results, targets: [] };
  const checks: TargetCheck[] = [];
  for (const language of ["javascript", "python", "ruby", "bash"] as const) {
    checks.push(
      atMost(
        `warm-http-p50-${language}`,
        `warm start p50 over HTTP, ${language}, fresh instance each time`,
        WARM_HTTP_P50_GOAL_MS[language],
        MS,
        warmHttpP50(full, language),
      ),
    );
  }

  const python = warmHttpP50(full, "python");
  const native = results.baselines?.native.python;
  let speedup: Measured;
  if (isUnavailable(python)) speedup = python;
  else if (native === undefined) speedup = missing("the native spawn baseline");
  else if (isUnavailable(native)) speedup = native;
  else
    speedup = {
      value: native.p50Ms / python.value,
      note: `python3 spawn p50 ${MS.format(native.p50Ms)} / warm HTTP p50 ${MS.format(python.value)}`,
    };
  checks.push(
    atLeast(
      "python-vs-native-spawn",
      "warm Python over HTTP vs native python3 spawn (p50)",
      NATIVE_PYTHON_SPEEDUP_GOAL,
      TIMES,
      speedup,
    ),
  );

  const throughput = results.throughput?.python;
  let best: Measured;
  if (throughput === undefined) best = missing("throughput");
  else if (isUnavailable(throughput)) best = throughput;
  else {
    const top = [...throughput.cells].sort((a, b) => b.perSecond - a.perSecond)[0];
    best = top
      ? {
          value: top.perSecond,
          note: `best of ${throughput.cells.length} levels: ${top.concurrency} clients, ${results.machine.cores} cores`,
        }
      : { unavailable: "no throughput cell ran" };
  }
  checks.push(
    atLeast(
      "python-throughput",
      "fresh Python executions per second over HTTP",
      PYTHON_THROUGHPUT_GOAL_PER_S,
      PER_S,
      best,
    ),
  );

  for (const language of ["javascript", "python", "ruby", "bash"] as const) {
    const cold = results.coldStart?.[language];
    const measured: Measured =
      cold === undefined ? missing("cold start") : isUnavailable(cold) ? cold : { value: cold.firstResultMs };
    checks.push(
      atMost(`cold-start-${language}`, `cold start to first result, ${language}`, COLD_START_GOAL_MS, MS, measured),
    );
  }

  for (const language of ["javascript", "python", "ruby", "bash"] as const) {
    const rss = results.rss;
    let measured: Measured;
    if (rss === undefined) measured = missing("RSS");
    else if (isUnavailable(rss)) measured = rss;
    else {
      const entry = rss.perLanguage[language];
      measured =
        entry === undefined
          ? missing(`RSS for ${language}`)
          : isUnavailable(entry)
            ? entry
            : { value: entry.perPooledInstanceBytes };
    }
    checks.push(
      atMost(
        `rss-pooled-${language}`,
        `RSS per idle pooled instance, ${language}`,
        POOLED_INSTANCE_RSS_GOAL_BYTES,
        MIB,
        measured,
      ),
    );
  }
  return checks;
}

/**
 * One execution per language that nobody sees, run through the worker pool once every language
 * has loaded (WasmSandbox.warmUp).
 *
 * Why: V8 compiles a wasm module's functions lazily, on their first call (--wasm-lazy-compilation is
 * on by default in Node 20; with --no-wasm-lazy-compilation the first Ruby run took ~13 ms instead
 * of ~110). The snapshots are booted in child processes, so in the service no interpreter function
 * has run when the first request arrives: that request paid for compiling every function an
 * execution touches (in-process, the first Ruby run took ~124 ms against ~4 ms for the next,
 * Python ~74 against ~4.5, JavaScript ~12 against ~2; over HTTP in a slow phase, a server's first
 * Ruby execution ~450 ms). The compiled code belongs to the module, which every worker of the
 * process shares, so one warm-up per language warms every worker.
 *
 * Why after the loads and not before each language is announced: done in the worker before it
 * reported its runner (measured first), the warm-ups added ~0.5 s of CPU to a start whose cores
 * are saturated by the other languages' boots, and the last language (bash) became available
 * 0.5-1.4 s later. After the loads, the cores are free; a request that arrives before its
 * language's warm-up pays the compiling itself, as before.
 *
 * Why each warm-up waits for a quiet moment (ExecutionActivity): the request an agent sends as soon
 * as the last language is announced would otherwise run beside the warm-ups of every language, and
 * the two cores are then shared with them and with V8 compiling what they call. Measured with the
 * bench's own cold start (spawn to the first Bash result, 8 alternating starts each), the first
 * Bash execution took 91-168 ms (median ~120) with the warm-ups running beside it, against 38-93
 * (median ~50) without warm-ups. A request compiles what it calls itself; the warm-ups are for the
 * requests that come later, and still run, only after it.
 *
 * The warm-up is an ordinary execution on a never-used instance, like any other: no files, no env,
 * no network (no effect handler), its output read only to check it, nothing of it recorded.
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import type { ExecutionRequest, Language } from "../types.js";
import type { PoolRun } from "./pool-slot.js";

/** A warm-up starts only once no request's execution ran for this long (ms). */
export const WARM_UP_QUIET_MS = 100;
/**
 * Longest a warm-up waits for that quiet (ms): a server busy from its start still runs its
 * warm-ups, and with them the check that each runtime prints what it should.
 */
export const WARM_UP_MAX_DEFER_MS = 10_000;

/** The clock ExecutionActivity waits with (tests substitute one that jumps). */
export interface ActivityClock {
  now(): number;
  /** Resolves after `ms`, or early (never rejects) once `signal` aborted. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const realClock: ActivityClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal, ref: false }).catch(() => undefined),
};

/**
 * The requests' executions in progress, and when the last one ended: what the warm-ups (and the
 * process sandbox's probes, WasmSandbox.quietAfterLoads) wait on.
 * The sandbox reports each execution (`begin`/`end`) and the end of the loads (`touch`: a request
 * for the language just announced may be on its way).
 */
export class ExecutionActivity {
  private running = 0;
  private lastActive: number;

  constructor(private readonly clock: ActivityClock = realClock) {
    this.lastActive = clock.now();
  }

  begin(): void {
    this.running++;
  }

  end(): void {
    this.running--;
    this.lastActive = this.clock.now();
  }

  /** Counts as activity now. */
  touch(): void {
    this.lastActive = this.clock.now();
  }

  /**
   * Resolves once nothing ran for `quietMs`, after `maxWaitMs` at the latest, or once `signal`
   * aborted. While executions run it looks again every `quietMs`.
   */
  async quiet(
    signal: AbortSignal,
    quietMs: number = WARM_UP_QUIET_MS,
    maxWaitMs: number = WARM_UP_MAX_DEFER_MS,
  ): Promise<void> {
    const deadline = this.clock.now() + maxWaitMs;
    while (!signal.aborted) {
      const now = this.clock.now();
      const wait = this.running > 0 ? quietMs : this.lastActive + quietMs - now;
      if (wait <= 0 || now >= deadline) return;
      await this.clock.sleep(Math.min(wait, deadline - now), signal);
    }
  }
}

/**
 * Small programs that go through what most executions use (output, strings, a collection, JSON;
 * a pipeline and a command substitution for bash), each printing WARM_UP_STDOUT.
 */
export const WARM_UP_CODE: Readonly<Record<Language, string>> = {
  javascript: "const xs = [1, 2, 3].map((x) => x * 2);\nconsole.log(JSON.stringify({ xs }), String(xs.length));\n",
  python:
    'import json\nxs = [x * 2 for x in (1, 2, 3)]\nprint(json.dumps({"xs": xs}, separators=(",", ":")), f"{len(xs)}")\n',
  ruby: 'require "json"\nxs = [1, 2, 3].map { |x| x * 2 }\nputs "#{JSON.generate({ "xs" => xs })} #{xs.size}"\n',
  bash: 'xs=""\nsep=""\nfor x in 1 2 3; do xs="$xs$sep$((x * 2))"; sep=","; done\nn=$(( $(echo 1 2 3 | wc -w) ))\necho "{\\"xs\\":[$xs]} $n"\n',
};

export const WARM_UP_STDOUT = '{"xs":[2,4,6]} 3\n';

export function warmUpRequest(language: Language): ExecutionRequest {
  return { language, code: WARM_UP_CODE[language], stdin: "", args: [], env: {}, files: [] };
}

/**
 * What a warm-up's result says about the runtime: `ok`; `broken` when it ran and did not print what it
 * should (the runtime cannot be trusted: fail closed); `inconclusive` when a host limit stopped it
 * (a machine so busy that the warm-up timed out says nothing about the runtime).
 */
export type WarmUpVerdict =
  | { readonly kind: "ok" }
  | { readonly kind: "broken"; readonly reason: string }
  | { readonly kind: "inconclusive"; readonly reason: string };

export function warmUpVerdict(language: Language, run: PoolRun): WarmUpVerdict {
  if (run.kind === "killed") return { kind: "inconclusive", reason: `${run.code}: ${run.message}` };
  const { outcome } = run;
  const limit = outcome.error?.code;
  if (limit === "TIMEOUT" || limit === "MEMORY_LIMIT" || limit === "OUTPUT_LIMIT") {
    return { kind: "inconclusive", reason: `${limit}: ${outcome.error?.message}` };
  }
  if (outcome.exitCode === 0 && outcome.error === undefined && run.stdout.text === WARM_UP_STDOUT)
    return { kind: "ok" };
  const detail = outcome.error?.message ?? `exit ${outcome.exitCode}`;
  return {
    kind: "broken",
    reason: `its ${language} warm-up execution failed (${detail}; stdout ${JSON.stringify(run.stdout.text.slice(0, 200))}, stderr ${JSON.stringify(run.stderr.text.slice(0, 200))})`,
  };
}

/**
 * Reading ftrace's text output (benchmarks/dev/trace-paused.ts): its lines, the fsyncs a set of
 * threads made, and where the threads they woke (or that woke them) landed.
 */
/** One line of the trace: `comm-tid [cpu] flags seconds: event`. */
export interface TraceLine {
  readonly tid: number;
  readonly comm: string;
  readonly cpu: number;
  readonly ns: bigint;
  readonly event: string;
}

export function parseTrace(text: string): TraceLine[] {
  const lines: TraceLine[] = [];
  for (const raw of text.split("\n")) {
    const m = /^\s*(.+)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+)\.(\d+):\s+(.*)$/.exec(raw);
    if (!m) continue;
    const [, comm, tid, cpu, seconds, fraction, event] = m as unknown as string[];
    const ns = BigInt(seconds as string) * 1_000_000_000n + BigInt((fraction as string).padEnd(9, "0"));
    lines.push({ tid: Number(tid), comm: comm as string, cpu: Number(cpu), ns, event: event as string });
  }
  return lines;
}

/** Of the wake-ups the server's threads made or received, how many landed on the waker's CPU. */
export function wakePlacement(
  lines: readonly TraceLine[],
  server: ReadonlySet<number>,
): { sameCpu: number; otherCpu: number } {
  const waker = new Map<number, number>();
  const counts = { sameCpu: 0, otherCpu: 0 };
  for (const line of lines) {
    const waking = /^sched_waking: .* pid=(\d+) /.exec(line.event);
    if (waking && (server.has(line.tid) || server.has(Number(waking[1])))) waker.set(Number(waking[1]), line.cpu);
    const woken = /^sched_wakeup: .* pid=(\d+) .* target_cpu=(\d+)/.exec(line.event);
    if (!woken) continue;
    const from = waker.get(Number(woken[1]));
    if (from === undefined) continue;
    waker.delete(Number(woken[1]));
    if (Number(woken[2]) === from) counts.sameCpu++;
    else counts.otherCpu++;
  }
  return counts;
}

/** Durations (ms) of the fsyncs the server's threads made. */
export function fsyncs(lines: readonly TraceLine[], server: ReadonlySet<number>): number[] {
  const open = new Map<number, bigint>();
  const out: number[] = [];
  for (const line of lines) {
    if (!server.has(line.tid)) continue;
    if (/^sys_f(data)?sync\(/.test(line.event)) open.set(line.tid, line.ns);
    else if (/^sys_f(data)?sync ->/.test(line.event)) {
      const started = open.get(line.tid);
      if (started !== undefined) out.push(Number(line.ns - started) / 1e6);
      open.delete(line.tid);
    }
  }
  return out;
}

/**
 * Where the wall time of one execution goes, thread by thread, from the kernel's scheduler: runs
 * `print(1)`-class requests against the compiled server under ftrace (sched_switch, sched_waking,
 * sched_wakeup and the syscalls an execution makes: read, write, writev, pwrite64, fsync, futex,
 * epoll_wait) and prints the median request's timeline, the server's fsyncs and where woken threads
 * landed. Needs root and tracefs at /sys/kernel/tracing; run `npm run build` first, then
 * `npx tsx benchmarks/dev/trace-paused.ts [language]`. Environment: WARMUP (executions first,
 * untraced, default 2,000), RUNS (traced, 40), GAP_MS (pause before each traced one, 10; 0 is
 * back-to-back), ROOT (another checkout's dist/). A development tool, not the benchmark harness.
 *
 * The trace clock is set to `mono` (CLOCK_MONOTONIC, which process.hrtime reads too), so each
 * request's client-side start and end cut its own lines out of the trace.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LANGUAGES, type Language } from "../../src/sandbox/types.js";
import { fsyncs, parseTrace, type TraceLine, wakePlacement } from "../lib/ftrace.js";
import { SpawnedServer } from "../lib/server.js";
import { percentile, round } from "../lib/stats.js";

const TRACEFS = "/sys/kernel/tracing";
const EVENTS = [
  "sched:sched_switch",
  "sched:sched_waking",
  "sched:sched_wakeup",
  ...["read", "write", "writev", "pwrite64", "fsync", "fdatasync", "futex", "epoll_wait"].flatMap((call) => [
    `syscalls:sys_enter_${call}`,
    `syscalls:sys_exit_${call}`,
  ]),
];

const language = (process.argv[2] ?? "javascript") as Language;
if (!LANGUAGES.includes(language)) throw new Error(`unknown language ${language}`);
const WARMUP = Number(process.env.WARMUP ?? 2000);
const RUNS = Number(process.env.RUNS ?? 40);
const GAP_MS = Number(process.env.GAP_MS ?? 10);

function tracefs(file: string, value: string): void {
  writeFileSync(join(TRACEFS, file), value);
}

const root = process.env.ROOT ?? resolve(".");
const { server } = await SpawnedServer.start({ mainScript: join(root, "dist/src/main.js"), logLevel: "info", env: {} });
const windows: Array<{ start: bigint; end: bigint; ms: number }> = [];
let trace = "";
let serverTids = new Set<number>();
try {
  for (let i = 0; i < WARMUP; i++) await server.printOne(language);
  tracefs("tracing_on", "0");
  tracefs("trace_clock", "mono");
  tracefs("buffer_size_kb", "65536");
  tracefs("set_event", EVENTS.join(" "));
  tracefs("trace", "");
  tracefs("tracing_on", "1");
  for (let i = 0; i < RUNS; i++) {
    if (GAP_MS > 0) await new Promise((done) => setTimeout(done, GAP_MS));
    const start = process.hrtime.bigint();
    const result = await server.printOne(language);
    const end = process.hrtime.bigint();
    if (!result.ok) throw new Error(result.failure);
    windows.push({ start, end, ms: result.ms });
  }
  tracefs("tracing_on", "0");
  trace = readFileSync(join(TRACEFS, "trace"), "utf8");
  serverTids = new Set(readdirSync(`/proc/${server.pid}/task`).map(Number));
} finally {
  tracefs("tracing_on", "0");
  tracefs("set_event", "");
  tracefs("trace_clock", "local");
  await server.stop();
}

const lines = parseTrace(trace);
const clientTid = process.pid;
const sorted = [...windows].sort((a, b) => a.ms - b.ms);
const median = sorted[Math.floor((sorted.length - 1) / 2)];
if (!median) throw new Error("no traced request");
const relevant = (line: TraceLine) =>
  serverTids.has(line.tid) || line.tid === clientTid || line.tid === 0 || /^kworker/.test(line.comm);
const out: string[] = [
  `${language}, ${RUNS} requests${GAP_MS > 0 ? `, each after ${GAP_MS} ms` : ", back-to-back"}: client p50 ${round(median.ms)} ms, p90 ${round(
    percentile(
      sorted.map((w) => w.ms),
      90,
    ),
  )} ms`,
  `server pid ${server.pid} (main thread ${server.pid}), client ${clientTid}`,
];
const synced = fsyncs(lines, serverTids).sort((a, b) => a - b);
if (synced.length > 0) {
  out.push(
    `server fsyncs: ${synced.length}, p50 ${round(percentile(synced, 50))} ms, p90 ${round(percentile(synced, 90))} ms`,
  );
}
const placement = wakePlacement(lines, serverTids);
out.push(
  `wake-ups to or from server threads: ${placement.sameCpu} landed on the waker's CPU, ${placement.otherCpu} on the other`,
  "",
  `the median request (${round(median.ms)} ms), ms since the client began the request (its send is the first writev):`,
);
for (const line of lines) {
  if (line.ns < median.start || line.ns > median.end || !relevant(line)) continue;
  if (/^sys_pwrite64 ->|^sys_futex ->|^sys_read ->|^sys_write ->/.test(line.event)) continue;
  const at = (Number(line.ns - median.start) / 1e6).toFixed(3).padStart(7);
  out.push(`${at}  cpu${line.cpu}  ${`${line.comm}-${line.tid}`.padEnd(16)} ${line.event.slice(0, 120)}`);
}
writeFileSync(process.stdout.fd, `${out.join("\n")}\n`);

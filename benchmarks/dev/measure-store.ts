/**
 * Cost of the two store commits every execution makes (record + steps up to `sandbox_started`, then
 * result + `completed`), on a real file in the temp dir, per `SANDBOX_STORE_SYNC` value:
 * `npx tsx benchmarks/dev/measure-store.ts` (env RUNS; LOG_BYTES=600 appends that many bytes to a
 * file beside the database three times per execution, as the server's log lines do: on ext4 an fsync
 * then also flushes those appends). Prints p50/p90 per commit, and how long each execution's two
 * writes held the event loop (their synchronous part: p50 to max, and how many held it over 5 ms),
 * which is where SQLite's automatic checkpoint inside a commit shows: run RUNS=4000 or more to see
 * enough of them (the WAL reaches 1,000 pages every ~80 executions). A development tool.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditEventInput } from "../../src/audit/event.js";
import { silentLogger } from "../../src/logger.js";
import { SqliteStore, type StoreSync } from "../../src/store/sqlite/sqlite-store.js";

const RUNS = Number(process.env.RUNS ?? 300);
const LOG_LINE = "x".repeat(Number(process.env.LOG_BYTES ?? 0));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] ?? 0) * 100) / 100;
}

const event = (executionId: string, type: AuditEventInput["type"], n: number): AuditEventInput => ({
  id: `evt_${executionId}_${n}`,
  executionId,
  requestId: "req_bench",
  type,
  time: Date.now(),
  fields: { language: "python", limits: { timeoutMs: 5000, memoryLimitBytes: 268435456 }, n },
});

async function measure(synchronous: StoreSync) {
  const dir = mkdtempSync(join(tmpdir(), "store-bench-"));
  const store = SqliteStore.open({ path: join(dir, "bench.db"), logger: silentLogger(), synchronous });
  const log = openSync(join(dir, "server.log"), "a");
  const logLine = () => {
    if (LOG_LINE.length > 0) writeSync(log, `${LOG_LINE}\n`);
  };
  const before: number[] = [];
  const after: number[] = [];
  const held: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const id = `exec_${synchronous}_${i}`;
      const t0 = performance.now();
      const created = store.createExecution(
        {
          id,
          owner: "default",
          status: "running",
          kind: "adhoc",
          dryRun: false,
          requestId: "req",
          createdAt: Date.now(),
        },
        [
          event(id, "received", 1),
          event(id, "policy_decision", 2),
          event(id, "secret_scan", 3),
          event(id, "sandbox_started", 4),
        ],
      );
      const heldBefore = performance.now() - t0;
      await created;
      const t1 = performance.now();
      logLine();
      logLine();
      const t2 = performance.now();
      const updated = store.updateExecution(
        id,
        ["running"],
        { status: "completed", result: { stdout: "1\n", exitCode: 0 } },
        Date.now(),
        [event(id, "completed", 5)],
      );
      held.push(heldBefore + performance.now() - t2);
      await updated;
      before.push(t1 - t0);
      after.push(performance.now() - t1);
      logLine();
    }
  } finally {
    store.close();
    closeSync(log);
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    recordBeforeRun: { p50: percentile(before, 50), p90: percentile(before, 90) },
    resultAfterRun: { p50: percentile(after, 50), p90: percentile(after, 90) },
    eventLoopHeldMs: {
      p50: percentile(held, 50),
      p99: percentile(held, 99),
      "p99.9": percentile(held, 99.9),
      max: percentile(held, 100),
      over5ms: held.filter((ms) => ms > 5).length,
    },
  };
}

const report: Record<string, unknown> = { runs: RUNS, load: loadavg().map((l) => Math.round(l * 100) / 100) };
for (const sync of ["full", "normal", "full", "normal"] as const) {
  report[`${sync}${report[sync] ? " (again)" : ""}`] = await measure(sync);
}
process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);

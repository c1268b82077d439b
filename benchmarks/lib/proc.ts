/** Process helpers: resident set size from /proc, and child scripts that print one JSON object. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { basename } from "node:path";

/** VmRSS of a process (all its threads, worker threads included), in bytes. Linux only. */
export function readRssBytes(pid: number | "self"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/**
 * Runs `node --import tsx <script> ...args` and parses the last stdout line as JSON. Probes run in
 * their own process so what they load (Pyodide, a second ruby.wasm, worker pools) does not sit in
 * the benchmark's own heap or skew its RSS.
 */
export function runProbe<T>(script: string, args: readonly string[], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0) {
        reject(new Error(`${basename(script)} exited with ${code ?? signal}: ${errorLine(stderr) || last}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON: ${last.slice(0, 300)} ${stderr.slice(-300)}`));
      }
    });
  });
}

/** The thrown error's message from a Node stack dump, or the end of stderr. */
function errorLine(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim());
  const error = lines.filter((l) => /^[A-Za-z]*Error(\s\[\w+\])?:/.test(l)).pop();
  return error ?? stderr.trim().slice(-300);
}

/** The machine's CPU time so far, in clock ticks, from the first line of /proc/stat. Linux only. */
export interface CpuTimes {
  /** Every kind of time (user, nice, system, idle, iowait, irq, softirq, steal). */
  readonly total: number;
  /** Time the hypervisor ran something else while this machine's CPUs wanted to run. */
  readonly steal: number;
}

export function parseCpuTimes(procStat: string): CpuTimes {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("no aggregate cpu line in /proc/stat");
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 8 || fields.some((f) => !Number.isFinite(f)))
    throw new Error(`unexpected /proc/stat line: ${line}`);
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] as number };
}

/** The machine's CPU times now, or undefined where /proc/stat cannot be read (not Linux). */
export function readCpuTimes(): CpuTimes | undefined {
  try {
    return parseCpuTimes(readFileSync("/proc/stat", "utf8"));
  } catch {
    return undefined;
  }
}

/** The share of the CPU time between two readings that was stolen (0..1, 3 decimals). */
export function stolenShare(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  if (total <= 0) return undefined;
  return Math.round(((after.steal - before.steal) / total) * 1000) / 1000;
}

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

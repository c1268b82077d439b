/**
 * Reading an interpreter's version once at startup, from a supervised run of `binary versionArgs`
 * (however the caller launches it: under bwrap or bare).
 */

import { runSupervised, type SupervisedCommand } from "./run-process.js";
import type { ProcessRuntime } from "./runtime.js";

export const PROBE_LIMITS = Object.freeze({ timeoutMs: 10_000, killGraceMs: 100, maxOutputBytes: 64 * 1024 });

export type VersionProbe =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly reason: string; readonly stderr: string };

export async function probeVersion(runtime: ProcessRuntime, command: SupervisedCommand): Promise<VersionProbe> {
  try {
    const end = await runSupervised(command, PROBE_LIMITS);
    const stdout = end.stdout.toString("utf8");
    const stderr = end.stderr.toString("utf8");
    if (end.stoppedBy !== null) return { ok: false, reason: `version probe stopped: ${end.stoppedBy}`, stderr };
    if (end.exitCode !== 0) return { ok: false, reason: `version probe exited with status ${end.exitCode}`, stderr };
    const version = runtime.parseVersion(`${stdout}${stderr}`).trim();
    if (version.length === 0) return { ok: false, reason: "version probe printed no version", stderr };
    return { ok: true, version };
  } catch (error) {
    return { ok: false, reason: `version probe failed: ${(error as Error).message}`, stderr: "" };
  }
}

/**
 * After the sandbox: redact the output (configured secret values always, then anything the detection
 * rules match), keep only files under the policy's persisted paths, list the run's effects, and build
 * the response. In a dry run no file is kept, no secret was released and no egress happened: the
 * response carries the manifest of what would have happened instead.
 */

import type { EgressEffect } from "../egress/effect.js";
import type { OutcomeCode } from "../errors.js";
import type { ExecuteResponse } from "../http/schemas.js";
import { isPersisted } from "../policy/schema.js";
import type { ExecutionResult, WorkspaceFile } from "../sandbox/types.js";
import { mergeCounts, type RedactionCounts, type Redactor } from "../secrets/redact.js";
import { sha256Hex } from "../tools/digest.js";
import { toResponse } from "./executor.js";
import type { ExecutionPlan } from "./plan.js";

export type Effect =
  | {
      readonly effect: "file";
      readonly path: string;
      readonly size: number;
      readonly sha256: string;
      readonly performed: boolean;
    }
  | { readonly effect: "secret"; readonly name: string; readonly performed: boolean }
  | EgressEffect;

export interface Manifest {
  readonly files: ReadonlyArray<{ readonly path: string; readonly size: number; readonly sha256: string }>;
  readonly secrets: ReadonlyArray<{ readonly name: string }>;
  /** Every HTTP call the guest made: answered by a mock, refused with DRY_RUN, or denied by policy. */
  readonly egress: ReadonlyArray<{
    readonly method: string;
    readonly url: string;
    readonly decision: "allow" | "deny";
    readonly answeredBy: EgressEffect["answeredBy"];
    readonly status?: number;
    readonly code?: string;
  }>;
}

export type RunResponse = ExecuteResponse & {
  readonly tool?: { readonly name: string; readonly version: number };
  readonly dryRun?: boolean;
  readonly manifest?: Manifest;
};

export interface FinishedRun {
  readonly response: RunResponse;
  readonly effects: readonly Effect[];
  readonly redactions: RedactionCounts;
  readonly limitHit?: OutcomeCode;
  readonly violation: boolean;
}

const LIMIT_CODES: ReadonlySet<string> = new Set(["TIMEOUT", "MEMORY_LIMIT", "OUTPUT_LIMIT", "FILESYSTEM_LIMIT"]);

export function finishRun(
  plan: ExecutionPlan,
  sandbox: ExecuteResponse["sandbox"],
  result: ExecutionResult,
  redactor: Redactor,
  egressEffects: readonly EgressEffect[] = [],
): FinishedRun {
  // The secrets the policy grants: released for a real run, only listed in a dry run's manifest.
  const secretNames = plan.policy.secrets;
  const redactions: RedactionCounts = {};
  const stdout = redactor.text(result.stdout);
  const stderr = redactor.text(result.stderr);
  mergeCounts(mergeCounts(redactions, stdout.counts), stderr.counts);
  const error = result.error
    ? { code: result.error.code, message: redactor.text(result.error.message).text }
    : undefined;

  const persisted: WorkspaceFile[] = [];
  for (const file of result.files) {
    if (!isPersisted(plan.policy, file.path)) continue;
    const redacted = redactor.bytes(file.content);
    mergeCounts(redactions, redacted.counts);
    persisted.push({ path: file.path, content: redacted.bytes });
  }

  const performed = !plan.dryRun;
  const files = persisted.map((f) => ({ path: f.path, size: f.content.byteLength, sha256: sha256Hex(f.content) }));
  const effects: Effect[] = [
    ...files.map((f) => ({ effect: "file" as const, ...f, performed })),
    ...secretNames.map((name) => ({ effect: "secret" as const, name, performed })),
  ];
  effects.push(...egressEffects);
  const egress = egressEffects.map((e) => ({
    method: e.method,
    url: e.url,
    decision: e.decision,
    answeredBy: e.answeredBy,
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.code !== undefined ? { code: e.code } : {}),
  }));

  const cleaned: ExecutionResult = {
    ...result,
    stdout: stdout.text,
    stderr: stderr.text,
    files: plan.dryRun ? [] : persisted,
    ...(error ? { error } : {}),
  };
  const base = toResponse(plan.id, plan.language, sandbox, cleaned);
  const response: RunResponse = {
    ...base,
    ...(plan.tool ? { tool: { name: plan.tool.name, version: plan.tool.version } } : {}),
    ...(plan.kind === "tool" ? { dryRun: plan.dryRun } : {}),
    ...(plan.dryRun ? { manifest: { files, secrets: secretNames.map((name) => ({ name })), egress } } : {}),
  };
  const code = result.error?.code;
  return {
    response,
    effects,
    redactions,
    ...(code !== undefined && LIMIT_CODES.has(code) ? { limitHit: code } : {}),
    violation: code === "SANDBOX_VIOLATION",
  };
}

/** The stored copy of a response: whole when it fits, else without output and file contents. */
export function storableResult(response: RunResponse, maxBytes: number): unknown {
  const size = Buffer.byteLength(JSON.stringify(response));
  if (size <= maxBytes) return response;
  return {
    ...response,
    stdout: "",
    stderr: "",
    files: [],
    omitted: {
      reason: `the result (${size} bytes) is larger than SANDBOX_MAX_STORED_RESULT_BYTES; only the summary was kept`,
      files: response.files.map((f) => ({ path: f.path, size: f.size })),
    },
  };
}

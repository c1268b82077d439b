/**
 * An execution plan: everything the pipeline decides on and runs, built from an ad-hoc body or a
 * tool invocation, and rebuilt from the stored subject when an approved run starts. Hashes bind an
 * approval to exactly this plan: `codeHash` over language and code, `inputHash` over everything else.
 */
import type { LimitPolicy } from "../config.js";
import type { ExecuteRequestBody } from "../http/schemas.js";
import type { PolicyEvaluation } from "../policy/decision.js";
import type { Policy } from "../policy/schema.js";
import type { Limits, RequestLimits } from "../sandbox/limits.js";
import type { ExecutionRequest, Language, SandboxKind } from "../sandbox/types.js";
import type { ScanSource } from "../secrets/scanner.js";
import { jsonSources } from "../secrets/scanner.js";
import { codeHash, inputHash } from "../tools/digest.js";
import type { ToolMock } from "../tools/schema.js";
import { prepareRequest } from "./prepare.js";

/** What is stored while an execution waits for approval, to run it later exactly as asked. */
export type StoredSubject =
  | { readonly kind: "adhoc"; readonly body: ExecuteRequestBody }
  | {
      readonly kind: "tool";
      readonly name: string;
      readonly version: number;
      readonly input: unknown;
      readonly dryRun: boolean;
    };

export interface PlanIds {
  readonly id: string;
  readonly owner: string;
  readonly requestId: string;
}

export interface ExecutionPlan extends PlanIds {
  readonly kind: "adhoc" | "tool";
  /** The tool name, or `execute` for ad-hoc runs. */
  readonly target: string;
  readonly tool?: { readonly name: string; readonly version: number; readonly mocks: readonly ToolMock[] };
  readonly dryRun: boolean;
  readonly sandbox: SandboxKind | undefined;
  readonly language: Language;
  /** The request as the sandbox gets it, minus secret values (added at run time, never for dry runs). */
  readonly request: ExecutionRequest;
  readonly policy: Policy;
  readonly requestedLimits?: RequestLimits;
  readonly limits: Limits;
  readonly codeHash: string;
  readonly inputHash: string;
  readonly subject: StoredSubject;
  /** What the secret scan reads before anything runs. */
  readonly scanSources: readonly ScanSource[];
  /** Set when the policy could not be read: the run is denied with this evaluation (fail closed). */
  readonly policyDenial?: PolicyEvaluation;
}

/** Server defaults, lowered to the policy's ceilings. */
function policyLimits(policy: Policy, limits: LimitPolicy, useCeilingAsValue: boolean): Limits {
  const pick = (ceiling: number | undefined, fallback: number) =>
    ceiling === undefined ? fallback : useCeilingAsValue ? ceiling : Math.min(ceiling, fallback);
  const d = limits.defaults;
  return Object.freeze({
    timeoutMs: pick(policy.limits.timeoutMs, d.timeoutMs),
    killGraceMs: d.killGraceMs,
    memoryLimitBytes: pick(policy.limits.memoryLimitBytes, d.memoryLimitBytes),
    maxOutputBytes: pick(policy.limits.maxOutputBytes, d.maxOutputBytes),
    maxFilesystemBytes: Math.min(
      policy.filesystem.quotaBytes ?? d.maxFilesystemBytes,
      limits.maxima.maxFilesystemBytes,
    ),
  });
}

const textOf = (content: string, encoding: "utf8" | "base64") =>
  encoding === "base64" ? Buffer.from(content, "base64").toString("utf8") : content;

/** `POST /v1/execute`, under the server's default policy. `body.env` already holds any correlation ids. */
export function planAdHoc(
  body: ExecuteRequestBody,
  ids: PlanIds,
  policy: Policy,
  limits: LimitPolicy,
  scanExcludedEnv: ReadonlySet<string> = new Set(),
): ExecutionPlan {
  const { exposeRequestId: _folded, ...stored } = body;
  const request = prepareRequest(stored);
  const { code, ...rest } = stored;
  const base = policyLimits(policy, limits, false);
  const requested = Object.fromEntries(Object.entries(stored.limits ?? {}).filter(([, v]) => v !== undefined));
  return {
    ...ids,
    kind: "adhoc",
    target: "execute",
    dryRun: false,
    sandbox: stored.sandbox,
    language: stored.language,
    request,
    policy,
    ...(stored.limits ? { requestedLimits: stored.limits } : {}),
    limits: Object.freeze({ ...base, ...requested }),
    codeHash: codeHash(stored.language, code),
    inputHash: inputHash(rest),
    subject: { kind: "adhoc", body: stored },
    scanSources: [
      { name: "code", text: stored.code },
      { name: "stdin", text: stored.stdin },
      ...stored.args.map((text, i) => ({ name: `args[${i}]`, text })),
      ...Object.entries(stored.env)
        .filter(([name]) => !scanExcludedEnv.has(name))
        .map(([name, value]) => ({ name: `env.${name}`, text: `${name}=${value}` })),
      ...stored.files.map((f, i) => ({ name: `files[${i}]:${f.path}`, text: textOf(f.content, f.encoding) })),
    ],
  };
}

export interface ToolPlanInput {
  readonly name: string;
  readonly version: number;
  readonly language: Language;
  readonly code: string;
  readonly policy: Policy;
  readonly mocks: readonly ToolMock[];
  readonly policyDenial?: PolicyEvaluation;
}

/** `POST /v1/tools/{name}/invoke`: the input arrives as JSON on stdin and in /workspace/input.json. */
export function planTool(
  tool: ToolPlanInput,
  input: unknown,
  dryRun: boolean,
  ids: PlanIds,
  limits: LimitPolicy,
): ExecutionPlan {
  const json = JSON.stringify(input ?? null);
  const request: ExecutionRequest = {
    language: tool.language,
    code: tool.code,
    stdin: json,
    args: [],
    env: {},
    files: [{ path: "input.json", content: new TextEncoder().encode(json) }],
  };
  return {
    ...ids,
    kind: "tool",
    target: tool.name,
    tool: { name: tool.name, version: tool.version, mocks: tool.mocks },
    dryRun,
    sandbox: undefined,
    language: tool.language,
    request,
    policy: tool.policy,
    limits: policyLimits(tool.policy, limits, true),
    codeHash: codeHash(tool.language, tool.code),
    inputHash: inputHash({ input: input ?? null, dryRun }),
    subject: { kind: "tool", name: tool.name, version: tool.version, input: input ?? null, dryRun },
    scanSources: [{ name: "code", text: tool.code }, ...jsonSources(input ?? null)],
    ...(tool.policyDenial ? { policyDenial: tool.policyDenial } : {}),
  };
}

/**
 * What an approver sees: the approval, and while a `run` approval is pending the subject it is bound
 * to (the tool version and its code, or the ad-hoc code, with the input), so a human decides on
 * exactly what will run. Environment values of ad-hoc runs are shown by name only. An `effect`
 * approval shows the effect instead (method, display URL with the query elided, redirect hop, the
 * credential's name): it has no binding hashes and no subject.
 */
import type { StoredSubject } from "../executor/plan.js";
import type { ApprovalRecord, ControlStore, EffectDetail } from "../store/store.js";

export interface ApprovalView {
  readonly id: string;
  readonly kind: ApprovalRecord["kind"];
  readonly status: ApprovalRecord["status"];
  readonly executionId: string;
  readonly requestedBy: string;
  readonly reason: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly tool?: { readonly name: string; readonly version: number };
  readonly codeHash?: string;
  readonly inputHash?: string;
  readonly effect?: EffectDetail;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly decisionReason?: string;
  readonly subject?: Record<string, unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function approvalView(approval: ApprovalRecord, store: ControlStore): Promise<ApprovalView> {
  const view: ApprovalView = {
    id: approval.id,
    kind: approval.kind,
    status: approval.status,
    executionId: approval.executionId,
    requestedBy: approval.requestedBy,
    reason: approval.reason,
    createdAt: iso(approval.createdAt),
    expiresAt: iso(approval.expiresAt),
    ...(approval.toolName !== undefined && approval.toolVersion !== undefined
      ? { tool: { name: approval.toolName, version: approval.toolVersion } }
      : {}),
    ...(approval.kind === "run" ? { codeHash: approval.codeHash, inputHash: approval.inputHash } : {}),
    ...(approval.effect !== undefined ? { effect: approval.effect } : {}),
    ...(approval.decidedBy !== undefined ? { decidedBy: approval.decidedBy } : {}),
    ...(approval.decidedAt !== undefined ? { decidedAt: iso(approval.decidedAt) } : {}),
    ...(approval.decisionReason !== undefined ? { decisionReason: approval.decisionReason } : {}),
  };
  if (approval.status !== "pending" || approval.kind === "effect") return view;
  const subject = (await store.getExecution(approval.executionId))?.subject as StoredSubject | undefined;
  if (!subject) return view;
  if (subject.kind === "tool") {
    const tool = await store.getTool(subject.name, subject.version);
    return {
      ...view,
      subject: {
        kind: "tool",
        language: tool?.language,
        code: tool?.code,
        input: subject.input,
        dryRun: subject.dryRun,
        policy: tool?.policy,
      },
    };
  }
  const { body } = subject;
  return {
    ...view,
    subject: {
      kind: "adhoc",
      language: body.language,
      code: body.code,
      stdin: body.stdin,
      args: body.args,
      envNames: Object.keys(body.env),
      files: body.files.map((f) => ({ path: f.path, encoding: f.encoding, length: f.content.length })),
      ...(body.limits ? { limits: body.limits } : {}),
      ...(body.sandbox ? { sandbox: body.sandbox } : {}),
    },
  };
}

/**
 * The pipeline every execution walks, ad-hoc or tool:
 *
 *   validated body -> plan -> record + `received` -> policy (`policy_decision`) -> secret scan
 *   (`secret_scan`) -> approval (`approval_requested`, and the run waits) -> sandbox
 *   (`sandbox_started`) -> output redaction, effects (`effect`, `limit_hit`, `sandbox_violation`)
 *   -> record result + `completed`.
 *
 * The record and every step up to `sandbox_started` (or up to the refusal, or the approval request)
 * are committed to the store before the sandbox starts or the client is answered; the result and the
 * steps after the run are committed together. The commit before a run is not waited on to reach the
 * disk: the result's commit (or, earlier, a flush before the guest's first effect leaves) makes it
 * durable before anyone is answered, which saves one fsync of latency per execution. If the store cannot record them, the pipeline stops
 * with STORE_UNAVAILABLE and nothing runs (fail closed). Every path ends with a `completed` event and
 * a terminal status. Approved runs continue in approved-runs.ts.
 */
import { newApprovalId } from "../approvals/effect-approvals.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { AuditEventInput, AuditEventType } from "../audit/event.js";
import type { LimitPolicy } from "../config.js";
import { type ErrorCode, isServiceError, ServiceError } from "../errors.js";
import type { ExecuteRequestBody } from "../http/schemas.js";
import type { Logger } from "../logger.js";
import { denialIssues, type PolicyEvaluation } from "../policy/decision.js";
import { evaluatePolicy, readStoredPolicy } from "../policy/evaluate.js";
import { type Policy, policySchema } from "../policy/schema.js";
import { Redactor } from "../secrets/redact.js";
import { describeFinding, scanSources } from "../secrets/scanner.js";
import type { SecretVault } from "../secrets/vault.js";
import type { ControlStore, ExecutionRecord, NewExecution, RecordError } from "../store/store.js";
import { checkInput, jsonDepth, MAX_INPUT_DEPTH } from "../tools/input.js";
import type { ToolRegistry } from "../tools/registry.js";
import { type InvokeRequest, mockSchema, type ToolMock } from "../tools/schema.js";
import { type EffectApprover, type EgressTransport, ExecutionEffects } from "./effects.js";
import type { Executor } from "./executor.js";
import { newExecutionId } from "./executor.js";
import { finishRun, type RunResponse, storableResult } from "./finish.js";
import { type ExecutionPlan, type PlanIds, planAdHoc, planTool, type StoredSubject } from "./plan.js";

export interface PipelineOptions {
  readonly store: ControlStore;
  readonly audit: AuditLog;
  readonly executor: Executor;
  readonly tools: ToolRegistry;
  readonly vault: SecretVault;
  readonly defaultPolicy: Policy;
  readonly limits: LimitPolicy;
  readonly approvalTtlMs: number;
  readonly maxStoredResultBytes: number;
  /** How guest HTTP calls reach the network (resolver, dialer, limits). */
  readonly egress: EgressTransport;
  /** Asks a human about one effect; without it an effect that needs approval is refused. */
  readonly effectApprover?: EffectApprover;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface PipelineContext {
  readonly requestId: string;
  /** Name of the principal that asked: the owner of the execution. */
  readonly owner: string;
  readonly traceId?: string;
  /** Sent on the guest's outgoing HTTP requests. */
  readonly traceparent?: string;
  readonly keyName?: string;
  readonly signal?: AbortSignal;
  /** Variables the server adds for the guest (correlation ids): not scanned, not the client's data. */
  readonly serverEnv?: Readonly<Record<string, string>>;
}

export type Submission =
  | { readonly status: "completed"; readonly response: RunResponse }
  | {
      readonly status: "pending_approval";
      readonly id: string;
      readonly approval: { readonly id: string; readonly expiresAt: string };
    };

/** Stands in for a stored policy that no longer parses; the run is denied before it matters. */
const DENY_ALL_POLICY: Policy = policySchema.parse({ approval: "always" });

function parseMock(value: unknown): ToolMock[] {
  const parsed = mockSchema.safeParse(value);
  return parsed.success ? [parsed.data] : [];
}

export class ExecutionPipeline {
  private readonly now: () => number;

  constructor(private readonly options: PipelineOptions) {
    this.now = options.now ?? Date.now;
  }

  /** `POST /v1/execute`: an ad-hoc run under the server's default policy. */
  async execute(body: ExecuteRequestBody, ctx: PipelineContext): Promise<Submission> {
    this.options.executor.select(body.sandbox, body.language);
    const serverEnv = ctx.serverEnv ?? {};
    const merged = { ...body, env: { ...body.env, ...serverEnv } };
    const plan = planAdHoc(
      merged,
      this.ids(ctx),
      this.options.defaultPolicy,
      this.options.limits,
      new Set(Object.keys(serverEnv)),
    );
    return this.submit(plan, ctx);
  }

  /** `POST /v1/tools/{name}/invoke`: the current version of the tool, under its own policy. */
  async invoke(name: string, body: InvokeRequest, ctx: PipelineContext): Promise<Submission> {
    const tool = await this.options.tools.get(name);
    if (jsonDepth(body.input) > MAX_INPUT_DEPTH) {
      throw new ServiceError("VALIDATION_FAILED", `input: nested deeper than ${MAX_INPUT_DEPTH} levels`, {
        issues: [{ path: "input", message: `nested deeper than ${MAX_INPUT_DEPTH} levels` }],
      });
    }
    const issues = checkInput(tool.inputSchema as Record<string, unknown> | undefined, body.input ?? null);
    if (issues.length > 0) {
      throw new ServiceError(
        "VALIDATION_FAILED",
        `the input does not match the tool's input schema: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
        { issues },
      );
    }
    const plan = await this.toolPlan(tool.name, tool.version, body.input, body.dryRun, this.ids(ctx));
    this.options.executor.select(plan.sandbox, plan.language);
    return this.submit(plan, ctx);
  }

  private ids(ctx: PipelineContext): PlanIds {
    return { id: newExecutionId(), owner: ctx.owner, requestId: ctx.requestId };
  }

  /** A tool plan from a stored version; a stored policy that no longer parses denies (fail closed). */
  private async toolPlan(
    name: string,
    version: number,
    input: unknown,
    dryRun: boolean,
    ids: PlanIds,
  ): Promise<ExecutionPlan> {
    const tool = await this.options.tools.get(name, version);
    const stored = readStoredPolicy(tool.policy, name);
    const mocks = Array.isArray(tool.mocks) ? tool.mocks.flatMap((m) => parseMock(m)) : [];
    return planTool(
      {
        name,
        version,
        language: tool.language as ExecutionPlan["language"],
        code: tool.code,
        policy: stored.ok ? stored.policy : DENY_ALL_POLICY,
        mocks,
        ...(stored.ok ? {} : { policyDenial: stored.evaluation }),
      },
      input,
      dryRun,
      ids,
      this.options.limits,
    );
  }

  /** Rebuilds the plan an approval was granted for, from the stored subject. */
  async rebuild(execution: ExecutionRecord, requestId: string): Promise<ExecutionPlan> {
    const subject = execution.subject as StoredSubject | undefined;
    if (!subject) throw new ServiceError("APPROVAL_MISMATCH", "the execution has no stored subject to run");
    const ids = { id: execution.id, owner: execution.owner, requestId };
    if (subject.kind === "adhoc") return planAdHoc(subject.body, ids, this.options.defaultPolicy, this.options.limits);
    return this.toolPlan(subject.name, subject.version, subject.input, subject.dryRun, ids);
  }

  private newExecution(plan: ExecutionPlan, ctx: PipelineContext): NewExecution {
    return {
      id: plan.id,
      owner: plan.owner,
      status: "running",
      kind: plan.kind,
      ...(plan.tool ? { toolName: plan.tool.name, toolVersion: plan.tool.version } : {}),
      dryRun: plan.dryRun,
      requestId: ctx.requestId,
      createdAt: this.now(),
    };
  }

  /**
   * Policy, secret scan, then approval or the sandbox. The steps before the sandbox are committed
   * together, with the record, before the sandbox starts (or the 202, or the refusal) is answered.
   */
  private async submit(plan: ExecutionPlan, ctx: PipelineContext): Promise<Submission> {
    const { audit, store } = this.options;
    const id = plan.id;
    const execution = this.newExecution(plan, ctx);
    const step = (type: AuditEventType, fields: Record<string, unknown>) =>
      audit.event(id, ctx.requestId, type, fields);
    const steps: AuditEventInput[] = [
      step("received", {
        kind: plan.kind,
        ...(plan.tool ? { tool: { name: plan.tool.name, version: plan.tool.version } } : {}),
        language: plan.language,
        dryRun: plan.dryRun,
        codeHash: plan.codeHash,
        inputHash: plan.inputHash,
        owner: plan.owner,
      }),
    ];
    const refuse = async (code: ErrorCode, message: string, issues: Array<{ path: string; message: string }>) => {
      const error: RecordError = { code, message };
      steps.push(step("completed", { status: "denied", error }));
      audit.publish(await store.createExecution({ ...execution, status: "denied", error }, steps));
      return new ServiceError(code, message, { issues, executionId: id });
    };

    const evaluation = this.evaluate(plan);
    steps.push(step("policy_decision", { decision: evaluation.decision, decisions: evaluation.decisions }));
    if (evaluation.decision === "deny") {
      const issues = denialIssues(evaluation);
      throw await refuse(
        "POLICY_DENIED",
        `denied by policy: ${issues.map((i) => `${i.path} (${i.message})`).join("; ")}`,
        issues,
      );
    }

    const findings = scanSources(plan.scanSources);
    steps.push(
      step("secret_scan", {
        phase: "input",
        sources: plan.scanSources.length,
        findings: findings.map((f) => ({ rule: f.rule, location: `${f.source}:${f.line}:${f.column}` })),
      }),
    );
    if (findings.length > 0) {
      throw await refuse(
        "SECRET_DETECTED",
        `secret detected, nothing was run: ${findings.map(describeFinding).join("; ")}`,
        findings.map((f) => ({ path: `${f.source}:${f.line}:${f.column}`, message: f.rule })),
      );
    }

    if (evaluation.decision === "prompt") {
      const created = this.now();
      const approval = {
        id: newApprovalId(),
        executionId: id,
        requestedBy: plan.owner,
        ...(plan.tool ? { toolName: plan.tool.name, toolVersion: plan.tool.version } : {}),
        codeHash: plan.codeHash,
        inputHash: plan.inputHash,
        reason: evaluation.decisions
          .filter((d) => d.decision === "prompt")
          .map((d) => d.reason)
          .join("; "),
        createdAt: created,
        expiresAt: created + this.options.approvalTtlMs,
      };
      const expiresAt = new Date(approval.expiresAt).toISOString();
      audit.publish(await store.createExecution(execution, steps));
      const requested = step("approval_requested", { approvalId: approval.id, expiresAt, reason: approval.reason });
      audit.publish(await store.requestApproval(approval, plan.subject, created, [requested]));
      return { status: "pending_approval", id, approval: { id: approval.id, expiresAt } };
    }
    return { status: "completed", response: await this.run(plan, ctx, { execution, steps }) };
  }

  /** The policy decision for a plan (a plan whose stored policy could not be read carries its denial). */
  evaluate(plan: ExecutionPlan): PolicyEvaluation {
    return (
      plan.policyDenial ??
      evaluatePolicy({
        policy: plan.policy,
        subject: plan.target,
        dryRun: plan.dryRun,
        ...(plan.requestedLimits ? { requestedLimits: plan.requestedLimits } : {}),
        availableSecrets: this.options.vault.names(),
      })
    );
  }

  /** Ends an existing execution that never reached the sandbox: status `denied`, a `completed` event. */
  async deny(id: string, requestId: string, code: ErrorCode, message: string): Promise<void> {
    const error: RecordError = { code, message };
    const completed = this.options.audit.event(id, requestId, "completed", { status: "denied", error });
    this.options.audit.publish(
      await this.options.store.updateExecution(
        id,
        ["running", "pending_approval"],
        { status: "denied", error },
        this.now(),
        [completed],
      ),
    );
  }

  /**
   * The sandbox step and everything after it. A new execution (`fresh`) is recorded with its earlier
   * steps and `sandbox_started` in one commit; an approved one just appends `sandbox_started`. After
   * the run, the result and every remaining event are committed together.
   */
  async run(
    plan: ExecutionPlan,
    ctx: Pick<PipelineContext, "requestId" | "traceId" | "traceparent" | "keyName" | "signal">,
    fresh?: { execution: NewExecution; steps: AuditEventInput[] },
  ): Promise<RunResponse> {
    const { audit, store, vault, executor } = this.options;
    const id = plan.id;
    const step = (type: AuditEventType, fields: Record<string, unknown>) =>
      audit.event(id, ctx.requestId, type, fields);
    const secretEnv = vault.release(plan.dryRun ? [] : plan.policy.secrets);
    const sandbox = plan.sandbox ?? executor.defaultSandbox;
    const started = step("sandbox_started", {
      sandbox,
      language: plan.language,
      limits: plan.limits,
      dryRun: plan.dryRun,
      secrets: Object.keys(secretEnv),
    });
    // Written, not yet on disk: nobody is answered and nothing leaves before the run's result (a
    // durable write) or the guest's first effect (a flush) has made it durable (store.ts WriteOptions).
    const deferred = { deferDurability: true };
    audit.publish(
      fresh
        ? await store.createExecution(fresh.execution, [...fresh.steps, started], deferred)
        : await store.appendEvents([started], deferred),
    );
    const effects = new ExecutionEffects({
      plan,
      requestId: ctx.requestId,
      ...(ctx.traceparent !== undefined ? { traceparent: ctx.traceparent } : {}),
      vault,
      transport: this.options.egress,
      ...(this.options.effectApprover ? { approver: this.options.effectApprover } : {}),
      recorded: () => store.flush(),
    });
    let result: Awaited<ReturnType<Executor["run"]>>;
    try {
      result = await executor.run(
        id,
        { ...plan.request, env: { ...plan.request.env, ...secretEnv } },
        sandbox,
        plan.limits,
        {
          requestId: ctx.requestId,
          ...(ctx.traceId ? { traceId: ctx.traceId } : {}),
          ...(ctx.keyName ? { keyName: ctx.keyName } : {}),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          effects,
        },
      );
    } catch (error) {
      const code: ErrorCode = isServiceError(error) ? error.code : "INTERNAL";
      const recorded: RecordError = { code, message: isServiceError(error) ? error.message : "the sandbox failed" };
      audit.publish(
        await store.updateExecution(id, ["running"], { status: "completed", error: recorded }, this.now(), [
          ...effects.effects().map((effect) => step("effect", { ...effect })),
          step("completed", { status: "completed", error: recorded }),
        ]),
      );
      throw error;
    }

    const finished = finishRun(plan, sandbox, result, new Redactor(vault.all()), effects.effects());
    const after: AuditEventInput[] = [];
    if (Object.keys(finished.redactions).length > 0) {
      after.push(step("secret_scan", { phase: "output", redactions: finished.redactions }));
    }
    for (const effect of finished.effects) after.push(step("effect", { ...effect }));
    if (finished.limitHit) after.push(step("limit_hit", { limit: finished.limitHit }));
    if (finished.violation) {
      after.push(step("sandbox_violation", { message: finished.response.error?.message ?? "" }));
    }
    after.push(
      step("completed", {
        status: "completed",
        outcome: finished.response.error?.code ?? "OK",
        exitCode: finished.response.exitCode,
        durationMs: finished.response.durationMs,
      }),
    );
    const stored = storableResult(finished.response, this.options.maxStoredResultBytes);
    const committed = await store.updateExecution(
      id,
      ["running"],
      { status: "completed", result: stored },
      this.now(),
      after,
    );
    if (!committed) {
      this.options.logger.warn({ executionId: id }, "the execution was closed by another process before it finished");
    }
    audit.publish(committed);
    return finished.response;
  }
}

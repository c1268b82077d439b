/**
 * One execution's effects on the host side: the `EffectHandler` the sandbox calls for each guest
 * HTTP request. It runs the call through an EgressSession built from the plan's policy (allowlist,
 * approval mode, dry run and mocks, credentials from the vault), asks a human through the approvals
 * service when the session prompts (the deadline is paused meanwhile), and keeps every call's
 * effect record for the timeline and the dry-run manifest.
 *
 * Calls of one execution arrive one at a time: a guest blocks in each until it is answered.
 */
import type { EffectApprovalRequest } from "../approvals/effect-approvals.js";
import type { Dialer } from "../egress/dial.js";
import type { EgressEffect } from "../egress/effect.js";
import type { EgressLimits } from "../egress/limits.js";
import { fromToolMocks } from "../egress/mocks.js";
import type { Resolver } from "../egress/resolve.js";
import { type EgressPrompt, EgressSession, type PromptAnswer } from "../egress/session.js";
import type { EffectControl, EffectHandler, GuestHttpReply, GuestHttpRequest } from "../sandbox/host-call.js";
import type { SecretVault } from "../secrets/vault.js";
import type { ExecutionPlan } from "./plan.js";

/** The approvals service as this module needs it (src/approvals/effect-approvals.ts). */
export interface EffectApprover {
  /** Resolves with the decision; rejects when no decision can be obtained (fail closed). */
  ask(request: EffectApprovalRequest, signal?: AbortSignal): Promise<PromptAnswer>;
}

/** The network side of egress: injected so tests never leave loopback. */
export interface EgressTransport {
  readonly resolver: Resolver;
  readonly dialer: Dialer;
  readonly limits?: Partial<EgressLimits>;
}

export interface ExecutionEffectsOptions {
  readonly plan: ExecutionPlan;
  readonly requestId: string;
  readonly traceparent?: string;
  readonly vault: SecretVault;
  readonly transport: EgressTransport;
  readonly approver?: EffectApprover;
  /**
   * Resolves once the execution's record is durable (the pipeline writes it without waiting for
   * the disk); awaited before the first call is handled, so no call leaves unrecorded.
   */
  readonly recorded?: () => Promise<void>;
}

export class ExecutionEffects implements EffectHandler {
  private session: EgressSession | undefined;
  private control: EffectControl | undefined;
  private recorded: Promise<void> | undefined;

  constructor(private readonly options: ExecutionEffectsOptions) {}

  async http(request: GuestHttpRequest, control: EffectControl): Promise<GuestHttpReply> {
    this.control = control;
    // A failure rejects this and every later call: the worker pool answers EGRESS_INTERNAL.
    this.recorded ??= this.options.recorded?.();
    await this.recorded;
    const outcome = await this.egress(control.signal).request({
      method: request.method,
      url: request.url,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
      redirect: request.redirect,
    });
    if (!outcome.ok) return { ok: false, code: outcome.error.code, message: outcome.error.message };
    const { response } = outcome;
    return {
      ok: true,
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      body: response.body,
      url: response.url,
      redirected: response.redirected,
    };
  }

  /** Every call's effect record, in order. */
  effects(): readonly EgressEffect[] {
    return this.session?.effects() ?? [];
  }

  /** The session is made on the first call, bound to the run's signal (it ends calls in flight). */
  private egress(signal: AbortSignal): EgressSession {
    if (this.session) return this.session;
    const { plan, requestId, traceparent, vault, transport } = this.options;
    this.session = new EgressSession({
      policy: plan.policy.egress,
      approval: plan.policy.approval,
      dryRun: plan.dryRun,
      mocks: fromToolMocks(plan.tool?.mocks ?? []),
      requestId,
      ...(traceparent !== undefined ? { traceparent } : {}),
      // In a dry run no credential is looked up (the session only names it).
      secretValue: (name) => (plan.dryRun ? undefined : vault.release([name])[name]),
      resolver: transport.resolver,
      dialer: transport.dialer,
      ...(transport.limits ? { limits: transport.limits } : {}),
      onPrompt: (prompt) => this.ask(prompt),
      signal,
    });
    return this.session;
  }

  private async ask(prompt: EgressPrompt): Promise<PromptAnswer> {
    const { approver, plan, requestId } = this.options;
    if (!approver) throw new Error("no approvals service is configured");
    const resume = this.control?.pauseDeadline();
    try {
      return await approver.ask(
        {
          executionId: plan.id,
          requestId,
          requestedBy: plan.owner,
          ...(plan.tool ? { tool: { name: plan.tool.name, version: plan.tool.version } } : {}),
          effect: {
            kind: "egress",
            method: prompt.method,
            url: prompt.url,
            hop: prompt.hop,
            ...(prompt.credential !== undefined ? { credential: prompt.credential } : {}),
          },
          reason: prompt.decision.reason,
        },
        this.control?.signal,
      );
    } finally {
      resume?.();
    }
  }
}

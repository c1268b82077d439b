/**
 * One execution's egress: the single place a guest's HTTP request becomes (or does not become) a
 * request on the network. A session is created per execution and holds nothing from another; it
 * keeps the execution's effect records (the dry-run manifest).
 *
 * Per call, in order, each step able to refuse with a stable code (docs/egress.md):
 *   validate (method, URL, headers, body) -> per hop: policy decision (allowlist; `prompt` asks the
 *   injected approver) -> resolve and check every address -> attach this hop's credential -> dial
 *   the pinned address -> one exchange, size-capped -> a redirect starts the next hop from the
 *   policy decision again.
 * In a dry run the policy still decides, IP literals are still checked, and then a declared mock
 * answers or the call ends with `DRY_RUN`; nothing is resolved, dialled or sent.
 *
 * `request` never throws for anything a guest can cause: refusals are `{ ok: false, error }`.
 */
import type { Approver } from "./approval.js";
import { CredentialRedactor, type SecretLookup } from "./credential.js";
import type { Dialer } from "./dial.js";
import type { EgressEffect, EgressHop } from "./effect.js";
import { type EgressError, EgressFailure, egressError } from "./errors.js";
import { type GuestHeaders, guestRequestHeaders, type HeaderList, setHeader } from "./headers.js";
import { type EgressLimits, egressLimits } from "./limits.js";
import { type CompiledPolicy, compilePolicy } from "./match.js";
import { type EgressMock, MockTable } from "./mocks.js";
import { type CallState, performCall } from "./perform.js";
import { EGRESS_METHODS, type EgressApproval, type EgressPolicyInput, egressPolicySchema } from "./policy.js";
import type { Resolver } from "./resolve.js";
import { displayUrl, parseEgressUrl } from "./url.js";

export interface EgressRequest {
  /** Default GET; case-insensitive. */
  readonly method?: string;
  readonly url: string;
  readonly headers?: GuestHeaders;
  readonly body?: Uint8Array | string;
  /** `follow` (default) re-validates and follows redirects; `manual` returns the 3xx response. */
  readonly redirect?: "follow" | "manual";
}

export interface EgressResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: HeaderList;
  readonly body: Uint8Array;
  /** The final URL, after redirects. */
  readonly url: string;
  readonly redirected: boolean;
}

export type EgressOutcome =
  | { readonly ok: true; readonly response: EgressResponse; readonly effect: EgressEffect }
  | { readonly ok: false; readonly error: EgressError; readonly effect: EgressEffect };

export type { EgressPrompt, PromptAnswer } from "./approval.js";

export interface EgressSessionOptions {
  /** Validated here again; the parsed form (`EgressPolicy`) is accepted as is. */
  readonly policy: EgressPolicyInput;
  /** The tool policy's `approval`; `on-effect` makes every call a prompt. Default `on-effect`. */
  readonly approval?: EgressApproval;
  readonly dryRun?: boolean;
  readonly mocks?: readonly EgressMock[];
  /** Sent as `X-Request-Id`. */
  readonly requestId?: string;
  /** Sent as `traceparent` when it is a valid W3C traceparent. */
  readonly traceparent?: string;
  readonly secretValue?: SecretLookup;
  readonly resolver: Resolver;
  readonly dialer: Dialer;
  readonly limits?: Partial<EgressLimits>;
  /** Asked for every `prompt` decision; without it a prompt is refused (fail closed). */
  readonly onPrompt?: Approver;
  /** The execution's signal: aborting it ends calls in flight with EGRESS_ABORTED. */
  readonly signal?: AbortSignal;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;
const BODYLESS = new Set(["GET", "HEAD"]);

export class EgressSession {
  private readonly options: EgressSessionOptions;
  private readonly policy: CompiledPolicy;
  private readonly limits: EgressLimits;
  private readonly mocks: MockTable;
  private readonly records: EgressEffect[] = [];
  private calls = 0;

  constructor(options: EgressSessionOptions) {
    this.options = options;
    // A policy that does not parse denies every call (fail closed), as a stored policy does upstream.
    const parsed = egressPolicySchema.safeParse(options.policy);
    this.policy = parsed.success
      ? compilePolicy(parsed.data)
      : { rules: [], broken: "it does not match the egress policy schema" };
    this.limits = egressLimits(options.limits);
    this.mocks = new MockTable(options.mocks ?? []);
  }

  /** Every call's effect record so far, in order: the dry-run manifest, the audit `effect` events. */
  effects(): readonly EgressEffect[] {
    return [...this.records];
  }

  async request(request: EgressRequest): Promise<EgressOutcome> {
    const state: CallState = {
      started: performance.now(),
      waitedMs: 0,
      hops: [] as EgressHop[],
      redactor: new CredentialRedactor(),
      method: "",
      url: "",
      requestBytes: 0,
      performed: false,
      answeredBy: "none",
      credentials: [],
    };
    let outcome: { ok: true; response: EgressResponse } | { ok: false; error: EgressError };
    try {
      outcome = { ok: true, response: await this.call(request, state) };
    } catch (error) {
      outcome = {
        ok: false,
        error: error instanceof EgressFailure ? error.error : egressError("EGRESS_INTERNAL"),
      };
    }
    const effect = this.record(state, outcome, performance.now());
    if (outcome.ok) {
      return { ok: true, response: outcome.response, effect };
    }
    const message = state.redactor.text(outcome.error.message);
    return { ok: false, error: { code: outcome.error.code, message }, effect };
  }

  private async call(request: EgressRequest, state: CallState): Promise<EgressResponse> {
    if (this.calls >= this.limits.maxRequests) throw new EgressFailure("EGRESS_TOO_MANY_REQUESTS");
    this.calls++;
    if (typeof request !== "object" || request === null || typeof request.url !== "string") {
      throw new EgressFailure("EGRESS_INVALID_REQUEST", "(a request needs a url string)");
    }
    const method = String(request.method ?? "GET").toUpperCase();
    state.method = method;
    if (!(EGRESS_METHODS as readonly string[]).includes(method)) {
      throw new EgressFailure("EGRESS_INVALID_REQUEST", `(method ${method.slice(0, 16)} is not supported)`);
    }
    const parsed = parseEgressUrl(request.url);
    if (!parsed.ok) throw new EgressFailure("EGRESS_INVALID_URL", `(${parsed.reason})`);
    state.url = displayUrl(parsed.target);
    const headers = guestRequestHeaders(request.headers);
    if (!headers.ok) throw new EgressFailure("EGRESS_INVALID_REQUEST", `(${headers.reason})`);
    const body = typeof request.body === "string" ? new TextEncoder().encode(request.body) : request.body;
    if (body !== undefined && !(body instanceof Uint8Array)) {
      throw new EgressFailure("EGRESS_INVALID_REQUEST", "(the body must be bytes or a string)");
    }
    if (body !== undefined && body.byteLength > 0 && BODYLESS.has(method)) {
      throw new EgressFailure("EGRESS_INVALID_REQUEST", `(a ${method} request has no body)`);
    }
    if (body !== undefined && body.byteLength > this.limits.maxRequestBytes) {
      throw new EgressFailure(
        "EGRESS_INVALID_REQUEST",
        `(the body is larger than ${this.limits.maxRequestBytes} bytes)`,
      );
    }
    state.requestBytes = body?.byteLength ?? 0;

    return performCall(
      {
        method,
        target: parsed.target,
        headers: this.correlate(headers.headers),
        ...(body !== undefined && !BODYLESS.has(method) ? { body } : {}),
        follow: request.redirect !== "manual",
      },
      state,
      {
        policy: this.policy,
        limits: this.limits,
        mocks: this.mocks,
        approval: this.options.approval ?? "on-effect",
        dryRun: this.options.dryRun === true,
        resolver: this.options.resolver,
        dialer: this.options.dialer,
        ...(this.options.secretValue ? { secretValue: this.options.secretValue } : {}),
        ...(this.options.onPrompt ? { onPrompt: this.options.onPrompt } : {}),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      },
    );
  }

  /** The caller's request id and trace context; the guest's own were stripped with the headers. */
  private correlate(headers: HeaderList): HeaderList {
    let out = headers;
    const { requestId, traceparent } = this.options;
    if (requestId !== undefined && REQUEST_ID.test(requestId)) out = setHeader(out, "X-Request-Id", requestId);
    if (traceparent !== undefined && TRACEPARENT.test(traceparent) && !traceparent.startsWith("ff")) {
      out = setHeader(out, "traceparent", traceparent);
    }
    return out;
  }

  private record(
    state: CallState,
    outcome: { ok: true; response: EgressResponse } | { ok: false; error: EgressError },
    ended: number,
  ): EgressEffect {
    const r = state.redactor;
    const last = state.hops.at(-1);
    const effect: EgressEffect = {
      effect: "egress",
      method: state.method,
      url: r.text(state.url),
      decision: outcome.ok ? "allow" : "deny",
      reason: r.text(outcome.ok ? (last?.reason ?? "") : outcome.error.message),
      ...(outcome.ok ? {} : { code: outcome.error.code }),
      ...(outcome.ok ? { status: outcome.response.status } : last?.status !== undefined ? { status: last.status } : {}),
      bytes: outcome.ok ? outcome.response.body.byteLength : 0,
      requestBytes: state.requestBytes,
      durationMs: Math.max(0, Math.round(ended - state.started)),
      waitedMs: Math.round(state.waitedMs),
      performed: state.performed,
      dryRun: this.options.dryRun === true,
      answeredBy: state.answeredBy,
      credentials: [...state.credentials],
      hops: state.hops.map((h) => ({ ...h, url: r.text(h.url), reason: r.text(h.reason) })),
    };
    this.records.push(effect);
    return effect;
  }
}

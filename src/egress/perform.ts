/**
 * The hops of one call, after the session validated the request. Each hop starts from the policy
 * decision as if it were a new request: a redirect to a host no rule allows is denied, a redirect to
 * a private address is refused by the address check, a credential is attached only when the hop's
 * own matching rule carries one. Guest headers that identify the guest to an origin are dropped on
 * a cross-origin redirect, and a 301/302 POST or a 303 becomes a bodiless GET, as `fetch` does.
 */
import type { Duplex } from "node:stream";
import { type ApprovalRecord, type Approver, askApproval } from "./approval.js";
import { attachCredential, type CredentialRedactor, type SecretLookup } from "./credential.js";
import { decodeForRedaction } from "./decode.js";
import type { Dialer, DialTarget } from "./dial.js";
import type { EgressEffect, EgressHop } from "./effect.js";
import { EgressFailure } from "./errors.js";
import { guestResponseHeaders, type HeaderList, redirectHeaders, setHeader } from "./headers.js";
import type { EgressLimits } from "./limits.js";
import { type CompiledPolicy, type CompiledRule, decideEgress } from "./match.js";
import type { MockTable } from "./mocks.js";
import type { EgressApproval } from "./policy.js";
import { checkAddress } from "./ranges.js";
import { type Resolver, raceAbort, resolveAndPin } from "./resolve.js";
import { exchange, mapTransportError, type WireResponse } from "./transport.js";
import { displayUrl, type EgressTarget, parseEgressUrl, sameOrigin } from "./url.js";

export interface CallState {
  readonly started: number;
  waitedMs: number;
  readonly hops: EgressHop[];
  readonly redactor: CredentialRedactor;
  method: string;
  url: string;
  requestBytes: number;
  performed: boolean;
  answeredBy: EgressEffect["answeredBy"];
  readonly credentials: string[];
}

export interface CallInput {
  readonly method: string;
  readonly target: EgressTarget;
  readonly headers: HeaderList;
  readonly body?: Uint8Array;
  readonly follow: boolean;
}

export interface CallContext {
  readonly policy: CompiledPolicy;
  readonly limits: EgressLimits;
  readonly mocks: MockTable;
  readonly approval: EgressApproval;
  readonly dryRun: boolean;
  readonly resolver: Resolver;
  readonly dialer: Dialer;
  readonly secretValue?: SecretLookup;
  readonly onPrompt?: Approver;
  readonly signal?: AbortSignal;
}

export interface CallResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: HeaderList;
  readonly body: Uint8Array;
  readonly url: string;
  readonly redirected: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type MutableHop = { -readonly [K in keyof EgressHop]: EgressHop[K] };

export async function performCall(input: CallInput, state: CallState, ctx: CallContext): Promise<CallResponse> {
  if (ctx.signal?.aborted) throw new EgressFailure("EGRESS_ABORTED");
  if (ctx.dryRun) return dryRunCall(input, state, ctx);
  let { method, target, headers, body } = input;
  const budget = { spentMs: 0 };
  for (let hop = 0; ; hop++) {
    const rule = await admit(hop, method, target, state, ctx);
    const record = state.hops.at(-1) as MutableHop;
    const received = await network(ctx, budget, async (signal) => {
      const pinned = await resolveAndPin(target, rule.rule.allowPrivate, ctx.resolver, signal);
      record.address = pinned.address;
      let hopHeaders = headers;
      if (rule.rule.credential) {
        const { attached, value } = await attachCredential(rule.rule.credential, ctx.secretValue);
        state.redactor.add(attached.secret, value);
        if (!state.credentials.includes(attached.secret)) state.credentials.push(attached.secret);
        hopHeaders = setHeader(hopHeaders, attached.header[0], attached.header[1]);
      }
      const socket = await dialWithin(
        ctx.dialer,
        {
          address: pinned.address,
          family: pinned.family,
          port: target.port,
          hostname: target.hostname,
          tls: target.scheme === "https",
        },
        signal,
      );
      state.performed = true;
      return exchange(
        socket,
        {
          method,
          pathAndQuery: target.pathAndQuery,
          hostHeader: target.hostHeader,
          headers: hopHeaders,
          ...(body ? { body } : {}),
        },
        { maxResponseBytes: ctx.limits.maxResponseBytes, maxHeaderBytes: ctx.limits.maxHeaderBytes },
        signal,
      );
    });
    // With a credential in the call, an encoded body is decoded so that redaction can see into it.
    const wire = state.redactor.empty ? received : decodeForRedaction(received, ctx.limits.maxResponseBytes);
    record.status = wire.status;
    state.answeredBy = "network";

    const location = input.follow && REDIRECTS.has(wire.status) ? rawHeader(wire, "location") : undefined;
    if (location === undefined) return response(wire, target, hop > 0, state.redactor);
    if (hop >= ctx.limits.maxRedirects) {
      throw new EgressFailure("EGRESS_TOO_MANY_REDIRECTS", `(more than ${ctx.limits.maxRedirects})`);
    }
    const next = parseEgressUrl(location, target.url);
    if (!next.ok) throw new EgressFailure("EGRESS_INVALID_URL", `(the redirect target: ${next.reason})`, true);
    const toGet =
      wire.status === 303 ? method !== "HEAD" : (wire.status === 301 || wire.status === 302) && method === "POST";
    headers = redirectHeaders(headers, !sameOrigin(target, next.target), toGet);
    if (toGet) {
      method = "GET";
      body = undefined;
    }
    target = next.target;
  }
}

/** The policy decision for one hop (and the approval, when it prompts); the matching rule if admitted. */
async function admit(
  hop: number,
  method: string,
  target: EgressTarget,
  state: CallState,
  ctx: CallContext,
): Promise<CompiledRule> {
  const evaluation = decideEgress(ctx.policy, target, method, ctx);
  const record: MutableHop = {
    url: displayUrl(target),
    decision: evaluation.decision.decision,
    reason: evaluation.decision.reason,
  };
  state.hops.push(record);
  const rule = evaluation.rule;
  if (evaluation.decision.decision === "deny" || !rule) {
    throw new EgressFailure("EGRESS_DENIED", `(${evaluation.decision.reason})`, true);
  }
  if (evaluation.decision.decision === "prompt") {
    const credential = rule.rule.credential?.secret;
    const prompt = {
      decision: evaluation.decision,
      method,
      url: record.url,
      hop,
      ...(credential ? { credential } : {}),
    };
    await askApproval(ctx.onPrompt, prompt, ctx.signal, (answer: ApprovalRecord, waitedMs: number) => {
      record.approval = answer;
      state.waitedMs += waitedMs;
    });
  }
  return rule;
}

/** Runs a network phase under what is left of the call's time budget and the execution's signal. */
async function network<T>(
  ctx: CallContext,
  budget: { spentMs: number },
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const remaining = ctx.limits.timeoutMs - budget.spentMs;
  if (remaining <= 0) throw new EgressFailure("EGRESS_TIMEOUT", `(${ctx.limits.timeoutMs} ms)`);
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new Error("egress time budget spent")), remaining);
  const signal = ctx.signal ? AbortSignal.any([timer.signal, ctx.signal]) : timer.signal;
  const start = performance.now();
  try {
    return await fn(signal);
  } catch (error) {
    if (timer.signal.aborted) throw new EgressFailure("EGRESS_TIMEOUT", `(${ctx.limits.timeoutMs} ms)`);
    if (ctx.signal?.aborted) throw new EgressFailure("EGRESS_ABORTED");
    throw mapTransportError(error as NodeJS.ErrnoException);
  } finally {
    clearTimeout(handle);
    budget.spentMs += performance.now() - start;
  }
}

/** The dialer under the signal even if it ignores it; a socket that arrives too late is destroyed. */
function dialWithin(dialer: Dialer, target: DialTarget, signal: AbortSignal): Promise<Duplex> {
  const pending = dialer(target, signal);
  pending.then(
    (socket) => {
      if (signal.aborted) socket.destroy();
    },
    () => {},
  );
  return raceAbort(pending, signal);
}

function rawHeader(wire: WireResponse, name: string): string | undefined {
  for (let i = 0; i + 1 < wire.rawHeaders.length; i += 2) {
    if (wire.rawHeaders[i]?.toLowerCase() === name) return wire.rawHeaders[i + 1];
  }
  return undefined;
}

function response(wire: WireResponse, target: EgressTarget, redirected: boolean, r: CredentialRedactor): CallResponse {
  return {
    status: wire.status,
    statusText: r.text(wire.statusText),
    headers: guestResponseHeaders(wire.rawHeaders).map(([name, value]) => [name, r.text(value)]),
    body: r.bytes(wire.body),
    url: r.text(target.url.href),
    redirected,
  };
}

/** Policy and literal-address checks as for real, then a mock or DRY_RUN: nothing leaves the host. */
function dryRunCall(input: CallInput, state: CallState, ctx: CallContext): CallResponse {
  const evaluation = decideEgress(ctx.policy, input.target, input.method, ctx);
  const record: MutableHop = {
    url: displayUrl(input.target),
    decision: evaluation.decision.decision,
    reason: evaluation.decision.reason,
  };
  state.hops.push(record);
  const rule = evaluation.rule;
  if (evaluation.decision.decision === "deny" || !rule) {
    throw new EgressFailure("EGRESS_DENIED", `(${evaluation.decision.reason})`, true);
  }
  const credential = rule.rule.credential?.secret;
  if (credential !== undefined) state.credentials.push(credential);
  if (input.target.ip) {
    const verdict = checkAddress(input.target.ip, rule.rule.allowPrivate);
    if (!verdict.ok)
      throw new EgressFailure("EGRESS_ADDRESS_DENIED", `${input.target.hostname}: ${verdict.reason}.`, true);
  }
  const mock = ctx.mocks.find(input.target, input.method);
  if (!mock) {
    state.answeredBy = "DRY_RUN";
    throw new EgressFailure("DRY_RUN");
  }
  state.answeredBy = "mock";
  record.status = mock.status;
  return {
    status: mock.status,
    statusText: "",
    headers: guestResponseHeaders(Object.entries(mock.headers).flat()),
    body: new TextEncoder().encode(mock.body),
    url: input.target.url.href,
    redirected: false,
  };
}

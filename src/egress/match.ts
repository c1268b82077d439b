/**
 * Matching a request against the egress allowlist, and the decision that results. Deny by default:
 * a request no rule matches is denied. The first rule that matches host (or URL prefix) and method
 * wins, and it alone decides the credential and `allowPrivate`.
 *
 * Hosts are compared after the same WHATWG normalisation the request URL went through, and IP
 * literals as parsed bytes; URL prefixes as parsed URLs on a path-segment boundary, never with
 * `startsWith` on the raw string (`https://api.example.com` must not match
 * `https://api.example.com.evil.net/`).
 */
import { type IpAddress, sameAddress } from "./address.js";
import type { EgressApproval, EgressPolicy, EgressRule } from "./policy.js";
import { displayUrl, type EgressTarget, parseEgressUrl } from "./url.js";

export type EgressDecisionKind = "allow" | "deny" | "prompt";

/** Deno's vocabulary, as in src/policy/decision.ts, with capability `network`. */
export interface EgressDecision {
  readonly decision: EgressDecisionKind;
  readonly capability: "network";
  /** `METHOD url` with the query elided. */
  readonly target: string;
  readonly reason: string;
}

export interface CompiledRule {
  readonly index: number;
  readonly rule: EgressRule;
  readonly kind: "host" | "prefix";
  /** Prefix rules name a scheme; host rules with a credential are https only. */
  readonly scheme?: "http" | "https";
  readonly hostname: string;
  readonly ip?: IpAddress;
  readonly wildcard: boolean;
  readonly port?: number;
  /** Prefix rules: the path the request path must sit under. */
  readonly path?: string;
}

export type CompileResult =
  | { readonly ok: true; readonly rule: CompiledRule }
  | { readonly ok: false; readonly reason: string };

type RuleShape = Pick<EgressRule, "host" | "urlPrefix"> & Partial<EgressRule>;

export function compileRule(rule: RuleShape, index: number): CompileResult {
  const full: EgressRule = { methods: ["GET"], allowPrivate: false, ...rule };
  if (rule.host !== undefined) return compileHost(full, rule.host, index);
  if (rule.urlPrefix !== undefined) return compilePrefix(full, rule.urlPrefix, index);
  return { ok: false, reason: "give exactly one of host and urlPrefix" };
}

function compileHost(rule: EgressRule, host: string, index: number): CompileResult {
  const wildcard = host.startsWith("*.");
  const rest = wildcard ? host.slice(2) : host;
  if (/[/?#@\\\s]/.test(rest)) return { ok: false, reason: "must be a host name, optionally with :port" };
  const parsed = parseEgressUrl(`http://${rest}`);
  if (!parsed.ok) return { ok: false, reason: "must be a host name, optionally with :port" };
  const t = parsed.target;
  if (wildcard && t.ip) return { ok: false, reason: "a wildcard cannot prefix an IP address" };
  if (wildcard && rule.allowPrivate) return { ok: false, reason: "allowPrivate needs one exact host, not a wildcard" };
  const explicitPort = /:\d+$/.test(rest) ? t.port : undefined;
  return {
    ok: true,
    rule: {
      index,
      rule,
      kind: "host",
      ...(rule.credential ? { scheme: "https" as const } : {}),
      hostname: t.hostname,
      ...(t.ip ? { ip: t.ip } : {}),
      wildcard,
      ...(explicitPort !== undefined ? { port: explicitPort } : {}),
    },
  };
}

function compilePrefix(rule: EgressRule, prefix: string, index: number): CompileResult {
  const parsed = parseEgressUrl(prefix);
  if (!parsed.ok) return { ok: false, reason: `must be an http(s) URL: ${parsed.reason}` };
  const t = parsed.target;
  if (t.url.search !== "" || prefix.includes("?") || prefix.includes("#")) {
    return { ok: false, reason: "a URL prefix has no query or fragment" };
  }
  return {
    ok: true,
    rule: {
      index,
      rule,
      kind: "prefix",
      scheme: t.scheme,
      hostname: t.hostname,
      ...(t.ip ? { ip: t.ip } : {}),
      wildcard: false,
      port: t.port,
      path: t.url.pathname,
    },
  };
}

export interface CompiledPolicy {
  readonly rules: readonly CompiledRule[];
  /** Set when the policy could not be read: every request is denied (fail closed). */
  readonly broken?: string;
}

export function compilePolicy(policy: EgressPolicy): CompiledPolicy {
  const rules: CompiledRule[] = [];
  for (const [i, rule] of policy.allow.entries()) {
    const compiled = compileRule(rule, i);
    if (!compiled.ok) return { rules: [], broken: `rule ${i}: ${compiled.reason}` };
    rules.push(compiled.rule);
  }
  return { rules };
}

/** Encoded `/`, `\` and `.` let a server decode its way out of a prefix; prefix rules refuse them. */
const ENCODED_PATH_TRICK = /%2f|%5c|%2e/i;

function hostMatches(rule: CompiledRule, target: EgressTarget): boolean {
  if (rule.ip || target.ip) return rule.ip !== undefined && target.ip !== undefined && sameAddress(rule.ip, target.ip);
  if (rule.wildcard) return target.hostname.endsWith(`.${rule.hostname}`);
  return target.hostname === rule.hostname;
}

export function ruleMatches(rule: CompiledRule, target: EgressTarget, method: string): boolean {
  if (!(rule.rule.methods as readonly string[]).includes(method)) return false;
  if (rule.scheme !== undefined && rule.scheme !== target.scheme) return false;
  if (rule.port !== undefined && rule.port !== target.port) return false;
  if (!hostMatches(rule, target)) return false;
  if (rule.kind === "host") return true;
  const base = rule.path ?? "/";
  const path = target.url.pathname;
  if (ENCODED_PATH_TRICK.test(path)) return false;
  if (base.endsWith("/")) return path.startsWith(base);
  return path === base || path.startsWith(`${base}/`);
}

export interface Evaluation {
  readonly decision: EgressDecision;
  /** The matching rule, when one matched. */
  readonly rule?: CompiledRule;
}

export interface DecideOptions {
  readonly approval: EgressApproval;
  readonly dryRun: boolean;
}

export function decideEgress(
  policy: CompiledPolicy,
  target: EgressTarget,
  method: string,
  options: DecideOptions,
): Evaluation {
  const base = { capability: "network" as const, target: `${method} ${displayUrl(target)}` };
  if (policy.broken !== undefined) {
    return { decision: { ...base, decision: "deny", reason: `the egress policy is invalid (${policy.broken})` } };
  }
  const rule = policy.rules.find((r) => ruleMatches(r, target, method));
  if (!rule) {
    return { decision: { ...base, decision: "deny", reason: "no egress rule allows this method and URL" } };
  }
  const which = `egress rule ${rule.index} (${rule.rule.host ?? rule.rule.urlPrefix})`;
  if (options.approval === "on-effect" && !options.dryRun) {
    return {
      rule,
      decision: { ...base, decision: "prompt", reason: `${which} allows it; the policy asks a human on effect` },
    };
  }
  return { rule, decision: { ...base, decision: "allow", reason: `${which} allows it` } };
}

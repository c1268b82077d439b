/**
 * Finds secrets in text. `findSecrets` gives the exact span of each secret part (for redaction);
 * `scanSources` runs it over named sources (code, stdin, each arg, env, file, input leaf) and reports
 * findings as rule + location only: the value never leaves this module.
 */
import { qualifies, SECRET_RULES, type SecretRule } from "./rules.js";

export interface SecretMatch {
  readonly rule: string;
  /** Span of the secret part in the text, end exclusive. */
  readonly start: number;
  readonly end: number;
}

export interface ScanSource {
  /** Where the text came from: `code`, `stdin`, `args[0]`, `env.NAME`, `files[1]:out/a.txt`, `input.user.token`. */
  readonly name: string;
  readonly text: string;
  /** Where the scanned value starts in `text` when text wraps it (a JSON leaf written as `"key": "value"`). */
  readonly valueOffset?: number;
}

export interface SecretFinding {
  readonly rule: string;
  readonly source: string;
  readonly line: number;
  readonly column: number;
}

const compiled = new WeakMap<SecretRule, RegExp>();
function withIndices(rule: SecretRule): RegExp {
  let re = compiled.get(rule);
  if (!re) {
    re = new RegExp(
      rule.pattern.source,
      rule.pattern.flags.includes("d") ? rule.pattern.flags : `${rule.pattern.flags}d`,
    );
    compiled.set(rule, re);
  }
  return re;
}

export function findSecrets(text: string, rules: readonly SecretRule[] = SECRET_RULES): SecretMatch[] {
  const all: Array<SecretMatch & { order: number }> = [];
  rules.forEach((rule, order) => {
    for (const match of text.matchAll(withIndices(rule))) {
      const span = match.indices?.groups?.secret;
      const secret = match.groups?.secret;
      if (!span || secret === undefined || !qualifies(rule, secret)) continue;
      // A PEM body group may swallow trailing whitespace; keep the span tight.
      const trimmedEnd = span[0] + secret.trimEnd().length;
      all.push({ rule: rule.id, start: span[0], end: trimmedEnd, order });
    }
  });
  all.sort((a, b) => a.start - b.start || a.order - b.order);
  const kept: SecretMatch[] = [];
  let lastEnd = -1;
  for (const m of all) {
    if (m.start < lastEnd) continue;
    kept.push({ rule: m.rule, start: m.start, end: m.end });
    lastEnd = m.end;
  }
  return kept;
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

export function scanSources(sources: Iterable<ScanSource>): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const source of sources) {
    const offset = source.valueOffset ?? 0;
    for (const match of findSecrets(source.text)) {
      const position = lineColumn(source.text.slice(offset), Math.max(0, match.start - offset));
      findings.push({ rule: match.rule, source: source.name, ...position });
    }
  }
  return findings;
}

/** `code:3:14 (aws-access-key-id)` style, for messages. */
export function describeFinding(finding: SecretFinding): string {
  return `${finding.rule} at ${finding.source}:${finding.line}:${finding.column}`;
}

/**
 * The scan sources of a JSON input: every string leaf, named by its path, written as an assignment
 * to its key so the generic rule sees `"token": "..."` the way it would in code.
 */
export function jsonSources(value: unknown, path = "input", key?: string): ScanSource[] {
  if (typeof value === "string") {
    if (key === undefined) return [{ name: path, text: value }];
    const prefix = `${JSON.stringify(key)}: "`;
    return [{ name: path, text: `${prefix}${JSON.stringify(value).slice(1)}`, valueOffset: prefix.length }];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => jsonSources(item, `${path}[${i}]`, key));
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      jsonSources(v, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, k),
    );
  }
  return [];
}

/**
 * Output redaction. Configured secret values (and their base64, base64url and hex forms) are always
 * replaced with `[REDACTED:secret:NAME]`, in every output stream and file, whether or not the run was
 * given them; then anything the detection rules match becomes `[REDACTED:<rule>]`. Redaction catches
 * accidents, not a determined guest: code holding a secret can still transform it before printing.
 */
import { findSecrets } from "./scanner.js";

export interface NamedSecret {
  readonly name: string;
  readonly value: string;
}

export type RedactionCounts = Record<string, number>;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const forms = [
    value,
    bytes.toString("base64"),
    bytes.toString("base64").replace(/=+$/, ""),
    bytes.toString("base64url"),
    bytes.toString("hex"),
  ];
  return [...new Set(forms)].filter((f) => f.length >= 8).sort((a, b) => b.length - a.length);
}

export class Redactor {
  private readonly forms: ReadonlyArray<{ readonly name: string; readonly form: string }>;

  constructor(secrets: readonly NamedSecret[]) {
    this.forms = secrets
      .flatMap((s) => encodedForms(s.value).map((form) => ({ name: s.name, form })))
      .sort((a, b) => b.form.length - a.form.length);
  }

  text(input: string): { text: string; counts: RedactionCounts } {
    const counts: RedactionCounts = {};
    let text = input;
    for (const { name, form } of this.forms) {
      const parts = text.split(form);
      if (parts.length > 1) {
        counts[`secret:${name}`] = (counts[`secret:${name}`] ?? 0) + parts.length - 1;
        text = parts.join(`[REDACTED:secret:${name}]`);
      }
    }
    const matches = findSecrets(text);
    for (let i = matches.length - 1; i >= 0; i--) {
      const m = matches[i];
      if (!m) continue;
      counts[m.rule] = (counts[m.rule] ?? 0) + 1;
      text = `${text.slice(0, m.start)}[REDACTED:${m.rule}]${text.slice(m.end)}`;
    }
    return { text, counts };
  }

  /**
   * Files: UTF-8 content is redacted as text; other bytes have the configured values' bytes replaced
   * (latin1 maps bytes 1:1, so the rest of the file is preserved exactly).
   */
  bytes(input: Uint8Array): { bytes: Uint8Array; counts: RedactionCounts } {
    let decoded: string | undefined;
    try {
      decoded = strictUtf8.decode(input);
    } catch {
      decoded = undefined;
    }
    if (decoded !== undefined) {
      const { text, counts } = this.text(decoded);
      return { bytes: text === decoded ? input : new TextEncoder().encode(text), counts };
    }
    const counts: RedactionCounts = {};
    let latin1 = Buffer.from(input).toString("latin1");
    const original = latin1;
    for (const { name, form } of this.forms) {
      const needle = Buffer.from(form, "utf8").toString("latin1");
      const parts = latin1.split(needle);
      if (parts.length > 1) {
        counts[`secret:${name}`] = (counts[`secret:${name}`] ?? 0) + parts.length - 1;
        latin1 = parts.join(`[REDACTED:secret:${name}]`);
      }
    }
    return { bytes: latin1 === original ? input : new Uint8Array(Buffer.from(latin1, "latin1")), counts };
  }
}

export function mergeCounts(into: RedactionCounts, from: RedactionCounts): RedactionCounts {
  for (const [rule, n] of Object.entries(from)) into[rule] = (into[rule] ?? 0) + n;
  return into;
}

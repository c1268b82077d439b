/**
 * Credential injection. A policy rule can attach a configured secret to the requests it matches; the
 * host looks the value up (through the injected `secretValue(name)`) only for a request that matched
 * that rule, after every check passed, and only for that hop. The guest never holds the value:
 *
 * - it is not in the guest's environment (egress credentials are not `policy.secrets`);
 * - it is never copied to another hop: each redirect hop is matched afresh and gets its own rule's
 *   credential or none;
 * - whatever the server echoes back (an `/anything` endpoint reflecting `Authorization`, a
 *   `Location` carrying the token) is redacted from the response, its URL and every error message
 *   before the guest sees it: the value and its base64, base64url, hex and percent-encoded forms
 *   become `[REDACTED:secret:NAME]`.
 */
import { EgressFailure } from "./errors.js";
import type { EgressCredential } from "./policy.js";

export type SecretLookup = (name: string) => string | undefined | Promise<string | undefined>;

export interface AttachedCredential {
  readonly secret: string;
  readonly header: readonly [string, string];
}

const MIN_REDACTED_FORM = 4;

export async function attachCredential(
  credential: EgressCredential,
  lookup: SecretLookup | undefined,
): Promise<{
  attached: AttachedCredential;
  value: string;
}> {
  let value: string | undefined;
  try {
    value = lookup === undefined ? undefined : await lookup(credential.secret);
  } catch {
    value = undefined;
  }
  if (typeof value !== "string" || value === "" || /[\r\n\0]/.test(value)) {
    throw new EgressFailure("EGRESS_CREDENTIAL_UNAVAILABLE", `(secret ${credential.secret})`);
  }
  const header: [string, string] =
    credential.as === "bearer"
      ? ["Authorization", `Bearer ${value}`]
      : credential.as === "basic"
        ? ["Authorization", `Basic ${Buffer.from(value, "utf8").toString("base64")}`]
        : [credential.header ?? "", value];
  return { attached: { secret: credential.secret, header }, value };
}

function forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const base64 = bytes.toString("base64");
  const candidates = [
    value,
    base64,
    base64.replace(/=+$/, ""),
    bytes.toString("base64url"),
    bytes.toString("hex"),
    encodeURIComponent(value),
  ];
  // Basic auth: the password alone may be echoed too.
  const colon = value.indexOf(":");
  if (colon >= 0) candidates.push(value.slice(colon + 1));
  return candidates.filter((f) => f.length >= MIN_REDACTED_FORM);
}

/** Replaces every form of every credential value sent during one call. */
export class CredentialRedactor {
  private readonly needles: Array<{ readonly name: string; readonly form: string }> = [];

  add(name: string, value: string): void {
    for (const form of forms(value)) {
      if (!this.needles.some((n) => n.form === form)) this.needles.push({ name, form });
    }
    this.needles.sort((a, b) => b.form.length - a.form.length);
  }

  get empty(): boolean {
    return this.needles.length === 0;
  }

  text(input: string): string {
    let text = input;
    for (const { name, form } of this.needles) text = text.split(form).join(`[REDACTED:secret:${name}]`);
    return text;
  }

  /** Byte-exact outside the matches: works on binary bodies through latin1 (one char per byte). */
  bytes(input: Uint8Array): Uint8Array {
    if (this.needles.length === 0) return input;
    let latin1 = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("latin1");
    const original = latin1;
    for (const { name, form } of this.needles) {
      const needle = Buffer.from(form, "utf8").toString("latin1");
      latin1 = latin1.split(needle).join(`[REDACTED:secret:${name}]`);
    }
    return latin1 === original ? input : new Uint8Array(Buffer.from(latin1, "latin1"));
  }
}

/**
 * The secret-detection rules. Each rule is a pattern with a capture group `secret` (the part that is
 * the credential), an entropy floor over that part (bits per character) so placeholders such as
 * `xxxxxxxx` or `AKIAXXXXXXXXXXXXXXXX` pass, and the shared allowlist of documented example values
 * (`AKIAIOSFODNN7EXAMPLE`). Findings name the rule and where it matched, never the value.
 */
import { shannonEntropy } from "./entropy.js";

export interface SecretRule {
  readonly id: string;
  readonly description: string;
  /** Global, with a named group `secret`. */
  readonly pattern: RegExp;
  /** Minimum Shannon entropy of the secret part (bits per character). */
  readonly entropyFloor: number;
  /** Extra check on the secret part, after the entropy floor. */
  readonly accept?: (secret: string) => boolean;
}

/** Documented example credentials and obvious placeholders: never findings. */
const ALLOWLIST = new Set([
  "AKIAIOSFODNN7EXAMPLE",
  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "AKIAI44QH8DHBEXAMPLE",
  "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
]);
const PLACEHOLDER =
  /^(?:x+|\*+|0+|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|%[^%]+%|.*(?:example|placeholder|dummy|redacted|changeme|your[-_]?(?:api[-_]?)?(?:key|token|secret|password)).*)$/i;

export function isAllowlisted(secret: string): boolean {
  return ALLOWLIST.has(secret) || PLACEHOLDER.test(secret);
}

const hasLetterAndDigit = (s: string) => /[A-Za-z]/.test(s) && /\d/.test(s);

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: "aws-access-key-id",
    description: "AWS access key id",
    pattern: /(?<![A-Z0-9])(?<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Z0-9])/g,
    entropyFloor: 3.0,
  },
  {
    id: "github-token",
    description: "GitHub personal access, OAuth, app or refresh token",
    pattern:
      /(?<![A-Za-z0-9_])(?<secret>(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82}))(?![A-Za-z0-9_])/g,
    entropyFloor: 3.0,
  },
  {
    id: "slack-token",
    description: "Slack bot, user, app or legacy token",
    pattern: /(?<![A-Za-z0-9-])(?<secret>xox[abposre]-[A-Za-z0-9-]{10,250})(?![A-Za-z0-9-])/g,
    entropyFloor: 3.0,
  },
  {
    id: "slack-webhook",
    description: "Slack incoming webhook URL",
    pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/(?<secret>[A-Za-z0-9]{20,})/g,
    entropyFloor: 3.0,
  },
  {
    id: "private-key",
    description: "PEM or PGP private key block",
    pattern:
      /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[ \t]*\r?\n(?:[A-Za-z-]+: [^\r\n]*\r?\n)*\s*(?<secret>[A-Za-z0-9+/=\r\n \t]{40,})/g,
    entropyFloor: 3.5,
  },
  {
    id: "generic-high-entropy-assignment",
    description: "a high-entropy value assigned to a name like secret, token, password or api_key",
    pattern:
      /(?<![A-Za-z0-9])[A-Za-z0-9_.-]{0,40}?(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|auth[_-]?key|private[_-]?key|credential|client[_-]?secret)[A-Za-z0-9_.-]{0,40}["'`]?\s*(?::=|=>|:|=)\s*["'`]?(?<secret>[A-Za-z0-9+/=_\-.~!@#$%^&*]{16,256})/gi,
    entropyFloor: 3.5,
    accept: hasLetterAndDigit,
  },
];

/** Whether a candidate secret part counts as a finding under `rule`. */
export function qualifies(rule: SecretRule, secret: string): boolean {
  const compact = secret.replace(/\s+/g, "");
  if (isAllowlisted(compact)) return false;
  if (shannonEntropy(compact) < rule.entropyFloor) return false;
  return rule.accept ? rule.accept(compact) : true;
}

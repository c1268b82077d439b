/**
 * Configured secret values: a JSON object `{ "NAME": "value" }` in `SANDBOX_SECRETS_FILE`, read once
 * at startup. A tool's policy names the secrets it may use; the values reach only the guest's
 * environment (never a dry run), and every configured value is redacted from output.
 */
import { readFileSync, statSync } from "node:fs";
import { z } from "zod";
import type { Logger } from "../logger.js";
import { SECRET_NAME } from "../policy/schema.js";
import type { NamedSecret } from "./redact.js";

export class SecretsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretsFileError";
  }
}

const fileSchema = z.record(
  z.string().regex(SECRET_NAME, { message: "secret names are A-Z, 0-9 and _" }),
  z
    .string()
    .min(8, { message: "secret values must be at least 8 characters (shorter ones cannot be redacted safely)" })
    .max(65_536)
    .refine((v) => !v.includes("\0"), { message: "must not contain NUL" }),
);

export class SecretVault {
  private readonly values: ReadonlyMap<string, string>;

  constructor(values: Readonly<Record<string, string>> = {}) {
    this.values = new Map(Object.entries(values));
  }

  names(): ReadonlySet<string> {
    return new Set(this.values.keys());
  }

  /** The values of `names`, for the guest's environment. Unknown names are absent (the policy denied them). */
  release(names: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of names) {
      const value = this.values.get(name);
      if (value !== undefined) out[name] = value;
    }
    return out;
  }

  /** Every configured value, for redaction. */
  all(): NamedSecret[] {
    return [...this.values].map(([name, value]) => ({ name, value }));
  }
}

export function loadSecretVault(path: string | undefined, logger: Logger): SecretVault {
  if (path === undefined) return new SecretVault();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new SecretsFileError(`cannot read the secrets file ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) {
    const where = result.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ");
    throw new SecretsFileError(`invalid secrets file ${path}: ${where}`);
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    logger.warn({ path }, "the secrets file is readable by other users: chmod 600 it");
  }
  logger.info({ secrets: Object.keys(result.data) }, "secrets loaded");
  return new SecretVault(result.data);
}

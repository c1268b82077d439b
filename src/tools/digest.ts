/**
 * Content digests for binding decisions to exactly what runs: SHA-256 over a canonical JSON form
 * (object keys sorted, no whitespace), so the same value always hashes the same however it was sent.
 */
import { createHash } from "node:crypto";

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** JSON with object keys sorted at every depth; `undefined` members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? "null";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const source = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(source)
        .sort()
        .map((key) => [key, sortKeys(source[key])]),
    );
  }
  return value;
}

/** The hash a tool version and an approval carry for the code: language and source. */
export function codeHash(language: string, code: string): string {
  return sha256Hex(`${language}\0${code}`);
}

/** The hash of everything else a run takes (input, options), in canonical form. */
export function inputHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

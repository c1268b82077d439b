/**
 * Key comparison that leaks neither content nor length: both sides are reduced to SHA-256 digests
 * (32 bytes whatever the input) and compared with `timingSafeEqual`. A presented key is checked
 * against every configured key, without stopping at the first match, so timing does not say which
 * entry matched or how many exist.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export type Digest = (value: string) => Buffer;

export const sha256: Digest = (value) => createHash("sha256").update(value, "utf8").digest();

/** Equal iff `a === b`, in time that depends on neither value nor length. */
export function constantTimeEqual(a: string, b: string, digest: Digest = sha256): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Index of the digest `presented` hashes to, or -1. Always looks at every entry. */
export function findDigest(presented: string, digests: readonly Buffer[], digest: Digest = sha256): number {
  const candidate = digest(presented);
  let found = -1;
  for (let i = 0; i < digests.length; i++) {
    const stored = digests[i] as Buffer;
    const equal = stored.length === candidate.length && timingSafeEqual(stored, candidate);
    if (equal && found === -1) found = i;
  }
  return found;
}

/**
 * Random identifiers (request, trace, span, execution, audit event, approval and alert ids), drawn
 * from the CSPRNG in blocks: `randomBytes(n)` per id costs a call into the crypto binding and a
 * fresh Buffer each time, six or more times per execution. The block is refilled with `randomFillSync`
 * when it runs out, and every byte is handed out once, so the ids are exactly as unpredictable as
 * separate `randomBytes` calls (this is how Node's own `randomUUID` caches entropy).
 */
import { randomFillSync } from "node:crypto";

const BLOCK_BYTES = 4096;
const block = Buffer.alloc(BLOCK_BYTES);
let offset = BLOCK_BYTES;

/** `bytes` fresh random bytes of the block, encoded at once (the block is refilled in place). */
function take(bytes: number, encoding: "hex" | "base64url"): string {
  if (bytes > BLOCK_BYTES) throw new RangeError(`at most ${BLOCK_BYTES} random bytes at a time`);
  if (offset + bytes > BLOCK_BYTES) {
    randomFillSync(block);
    offset = 0;
  }
  const text = block.toString(encoding, offset, offset + bytes);
  offset += bytes;
  return text;
}

/** `bytes` random bytes as lowercase hex (2 * bytes characters). */
export function randomHex(bytes: number): string {
  return take(bytes, "hex");
}

/** `bytes` random bytes as unpadded base64url. */
export function randomBase64url(bytes: number): string {
  return take(bytes, "base64url");
}

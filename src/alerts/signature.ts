/**
 * Webhook signatures: `X-Sandbox-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, keyed with
 * SANDBOX_ALERT_WEBHOOK_SECRET. Receivers verify over the exact bytes received, before parsing.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Sandbox-Signature";

export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Constant-time check of a received signature header against the body. */
export function verifySignature(body: string | Uint8Array, header: string | undefined, secret: string): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(body, secret));
  const received = Buffer.from(header);
  return expected.length === received.length && timingSafeEqual(expected, received);
}

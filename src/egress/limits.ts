/**
 * Egress limits, with their units in their names, and the defaults. The host wiring may lower them
 * per tool; the per-call time budget counts only time spent on the network (resolving, connecting,
 * exchanging), never time spent waiting for a human to approve.
 */
export interface EgressLimits {
  /** Budget for one call, all redirect hops included. */
  readonly timeoutMs: number;
  /** Response body bytes, per hop; crossing it aborts the read with EGRESS_TOO_LARGE. */
  readonly maxResponseBytes: number;
  /** Response header bytes (Node's parser limit). */
  readonly maxHeaderBytes: number;
  /** Request body bytes. */
  readonly maxRequestBytes: number;
  /** Redirects followed per call. */
  readonly maxRedirects: number;
  /** Calls per execution (per session). */
  readonly maxRequests: number;
}

export const DEFAULT_EGRESS_LIMITS: EgressLimits = Object.freeze({
  timeoutMs: 10_000,
  maxResponseBytes: 5 * 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxRequestBytes: 1024 * 1024,
  maxRedirects: 5,
  maxRequests: 100,
});

export function egressLimits(overrides: Partial<EgressLimits> = {}): EgressLimits {
  const limits = { ...DEFAULT_EGRESS_LIMITS };
  for (const key of Object.keys(DEFAULT_EGRESS_LIMITS) as Array<keyof EgressLimits>) {
    const value = overrides[key];
    if (value !== undefined && Number.isFinite(value) && value >= 0) limits[key] = Math.floor(value);
  }
  return Object.freeze(limits);
}

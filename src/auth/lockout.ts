/**
 * Brute-force lockout per client: `maxFailures` failed authentications within `windowMs` block the
 * client for `lockoutMs`. A blocked client is refused before its key is even looked at, so a correct
 * guess during the lockout gains nothing. Success does not clear the count: a client holding one
 * valid key must not be able to reset its budget for guessing others.
 */
import { BoundedMap } from "../throttle/bounded-map.js";

export interface LockoutOptions {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
  readonly now?: () => number;
  readonly maxClients?: number;
}

interface ClientState {
  failures: number[];
  blockedUntil: number;
}

export type LockoutStatus =
  | { readonly blocked: false }
  | { readonly blocked: true; readonly retryAfterSeconds: number };

export class AuthLockout {
  private readonly clients: BoundedMap<string, ClientState>;
  private readonly now: () => number;

  constructor(private readonly options: LockoutOptions) {
    this.now = options.now ?? Date.now;
    this.clients = new BoundedMap(options.maxClients ?? 100_000);
  }

  status(client: string): LockoutStatus {
    const state = this.clients.get(client);
    const now = this.now();
    if (!state || state.blockedUntil <= now) return { blocked: false };
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil((state.blockedUntil - now) / 1000)) };
  }

  /** Records a failure; true when this failure started a lockout. */
  recordFailure(client: string): boolean {
    const now = this.now();
    const state = this.clients.get(client) ?? { failures: [], blockedUntil: 0 };
    state.failures = state.failures.filter((t) => t > now - this.options.windowMs);
    state.failures.push(now);
    let lockedNow = false;
    if (state.failures.length >= this.options.maxFailures && state.blockedUntil <= now) {
      state.blockedUntil = now + this.options.lockoutMs;
      state.failures = [];
      lockedNow = true;
    }
    this.clients.set(client, state);
    return lockedNow;
  }
}

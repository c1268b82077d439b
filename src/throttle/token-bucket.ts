/**
 * Per-key token buckets. Each key has `limit` tokens, refilled continuously at `limit` per
 * `windowMs`; a request takes one. The answer carries what the RateLimit header fields need
 * (draft-ietf-httpapi-ratelimit-headers-06): the quota, what remains, and the delta seconds until
 * the bucket is full again, plus Retry-After (seconds until one token) when refused.
 */
import { BoundedMap } from "./bounded-map.js";

export interface TokenBucketOptions {
  readonly limit: number;
  readonly windowMs: number;
  readonly now?: () => number;
  readonly maxKeys?: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the bucket is full again (0 when it is full). */
  readonly resetSeconds: number;
  /** Seconds until a request would be allowed; 0 when allowed. */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TokenBuckets {
  private readonly buckets: BoundedMap<string, Bucket>;
  private readonly now: () => number;
  /** Tokens per millisecond. */
  private readonly rate: number;

  constructor(private readonly options: TokenBucketOptions) {
    if (options.limit < 1 || options.windowMs <= 0) throw new RangeError("limit and windowMs must be positive");
    this.now = options.now ?? Date.now;
    this.rate = options.limit / options.windowMs;
    this.buckets = new BoundedMap(options.maxKeys ?? 100_000);
  }

  get limit(): number {
    return this.options.limit;
  }

  get windowSeconds(): number {
    return Math.ceil(this.options.windowMs / 1000);
  }

  take(key: string): RateDecision {
    const { limit } = this.options;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: limit, updatedAt: now };
    bucket.tokens = Math.min(limit, bucket.tokens + Math.max(0, now - bucket.updatedAt) * this.rate);
    bucket.updatedAt = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    const toSeconds = (tokens: number) => Math.ceil(tokens / this.rate / 1000 - 1e-9);
    return {
      allowed,
      limit,
      remaining: Math.floor(bucket.tokens + 1e-9),
      resetSeconds: Math.max(0, toSeconds(limit - bucket.tokens)),
      retryAfterSeconds: allowed ? 0 : Math.max(1, toSeconds(1 - bucket.tokens)),
    };
  }
}

import { describe, expect, it } from "vitest";
import { TokenBuckets } from "./token-bucket.js";

describe("TokenBuckets", () => {
  it("spends tokens, refuses when empty, and refills continuously", () => {
    let t = 0;
    const buckets = new TokenBuckets({ limit: 3, windowMs: 3000, now: () => t });
    expect(buckets.take("k")).toEqual({ allowed: true, limit: 3, remaining: 2, resetSeconds: 1, retryAfterSeconds: 0 });
    expect(buckets.take("k")).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 2 });
    expect(buckets.take("k")).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 3 });
    expect(buckets.take("k")).toMatchObject({ allowed: false, remaining: 0, resetSeconds: 3, retryAfterSeconds: 1 });
    expect(buckets.take("other")).toMatchObject({ allowed: true, remaining: 2 });
    t += 1000;
    expect(buckets.take("k")).toMatchObject({ allowed: true, remaining: 0 });
    t += 10_000;
    expect(buckets.take("k")).toMatchObject({ allowed: true, remaining: 2, resetSeconds: 1 });
  });

  it("reports Retry-After as the time until one token", () => {
    let t = 0;
    const buckets = new TokenBuckets({ limit: 1, windowMs: 10_000, now: () => t });
    buckets.take("k");
    t += 2500;
    expect(buckets.take("k")).toMatchObject({ allowed: false, retryAfterSeconds: 8, resetSeconds: 8 });
  });
});

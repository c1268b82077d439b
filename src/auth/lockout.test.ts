import { describe, expect, it } from "vitest";
import { AuthLockout } from "./lockout.js";

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("AuthLockout", () => {
  it("blocks a client after maxFailures within the window, for lockoutMs", () => {
    const c = clock();
    const lockout = new AuthLockout({ maxFailures: 3, windowMs: 60_000, lockoutMs: 300_000, now: c.now });
    expect(lockout.recordFailure("1.2.3.4")).toBe(false);
    expect(lockout.recordFailure("1.2.3.4")).toBe(false);
    expect(lockout.status("1.2.3.4")).toEqual({ blocked: false });
    expect(lockout.recordFailure("1.2.3.4")).toBe(true);
    expect(lockout.status("1.2.3.4")).toEqual({ blocked: true, retryAfterSeconds: 300 });
    expect(lockout.status("5.6.7.8")).toEqual({ blocked: false });
    c.advance(299_500);
    expect(lockout.status("1.2.3.4")).toEqual({ blocked: true, retryAfterSeconds: 1 });
    c.advance(500);
    expect(lockout.status("1.2.3.4")).toEqual({ blocked: false });
  });

  it("forgets failures older than the window", () => {
    const c = clock();
    const lockout = new AuthLockout({ maxFailures: 2, windowMs: 1000, lockoutMs: 5000, now: c.now });
    lockout.recordFailure("a");
    c.advance(1001);
    expect(lockout.recordFailure("a")).toBe(false);
    expect(lockout.status("a").blocked).toBe(false);
    expect(lockout.recordFailure("a")).toBe(true);
  });
});

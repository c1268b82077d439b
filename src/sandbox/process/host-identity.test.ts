import { describe, expect, it } from "vitest";
import { DEFAULT_HOST_UID_BASE, DEFAULT_HOST_UID_POOL_SIZE, HostIdentityPool } from "./host-identity.js";

describe("HostIdentityPool", () => {
  it("hands out distinct uids and refuses past its size", () => {
    const pool = new HostIdentityPool(5000, 3);
    const owners = [pool.acquire(), pool.acquire(), pool.acquire()];
    expect(new Set(owners.map((o) => o.uid)).size).toBe(3);
    expect(() => pool.acquire()).toThrow(/too many concurrent executions/);
  });

  it("reuses a released uid", () => {
    const pool = new HostIdentityPool(5000, 2);
    const first = pool.acquire();
    pool.release(first);
    expect(pool.acquire().uid).toBe(first.uid);
    expect(pool.active).toBe(1);
  });

  it("takes a per-process range inside the reserved block", () => {
    expect(DEFAULT_HOST_UID_BASE).toBe(1_000_000 + (process.pid % 4096) * DEFAULT_HOST_UID_POOL_SIZE);
    expect(DEFAULT_HOST_UID_BASE + DEFAULT_HOST_UID_POOL_SIZE).toBeLessThanOrEqual(1_000_000 + 4096 * 256);
  });
});

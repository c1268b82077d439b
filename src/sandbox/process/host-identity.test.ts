import { describe, expect, it } from "vitest";
import { DEFAULT_HOST_UID_BASE, DEFAULT_HOST_UID_POOL_SIZE, HostIdentityPool } from "./host-identity.js";

describe("HostIdentityPool", () => {
  it("hands out distinct uids and refuses past its size", () => {
    const pool = new HostIdentityPool(5000, 3);
    const owners = [pool.acquire(), pool.acquire(), pool.acquire()];
    expect(new Set(owners.map((o) => o.uid)).size).toBe(3);
    expect(() => pool.acquire()).toThrow(/too many concurrent executions/);
  });

  it("does not hand a just-released uid straight back", () => {
    const pool = new HostIdentityPool(5000, 4);
    const first = pool.acquire();
    pool.release(first);
    const second = pool.acquire();
    expect(second.uid).not.toBe(first.uid);
    pool.release(second);
    const seen = Array.from({ length: 4 }, () => {
      const o = pool.acquire();
      pool.release(o);
      return o.uid;
    });
    expect(new Set(seen).size).toBe(4);
  });

  it("takes a per-process range inside the reserved block", () => {
    expect(DEFAULT_HOST_UID_BASE).toBe(1_000_000 + (process.pid % 4096) * DEFAULT_HOST_UID_POOL_SIZE);
    expect(DEFAULT_HOST_UID_BASE + DEFAULT_HOST_UID_POOL_SIZE).toBeLessThanOrEqual(1_000_000 + 4096 * 256);
  });
});

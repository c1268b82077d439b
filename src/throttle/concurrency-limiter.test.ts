import { describe, expect, it } from "vitest";
import { ConcurrencyLimiter, QueueFullError } from "./concurrency-limiter.js";

describe("ConcurrencyLimiter", () => {
  it("runs up to maxActive, queues up to maxQueued, refuses beyond, hands slots over in order", async () => {
    const limiter = new ConcurrencyLimiter({ maxActive: 1, maxQueued: 1 });
    const release1 = await limiter.acquire("k");
    const order: string[] = [];
    const second = limiter.acquire("k").then((release) => {
      order.push("second");
      return release;
    });
    await expect(limiter.acquire("k")).rejects.toBeInstanceOf(QueueFullError);
    expect(limiter.stats("k")).toEqual({ active: 1, queued: 1 });
    const otherKey = await limiter.acquire("other");
    otherKey();
    release1();
    release1();
    const release2 = await second;
    expect(order).toEqual(["second"]);
    expect(limiter.stats("k")).toEqual({ active: 1, queued: 0 });
    release2();
    expect(limiter.stats("k")).toEqual({ active: 0, queued: 0 });
  });

  it("drops a waiter whose signal aborts", async () => {
    const limiter = new ConcurrencyLimiter({ maxActive: 1, maxQueued: 5 });
    const release = await limiter.acquire("k");
    const controller = new AbortController();
    const waiting = limiter.acquire("k", controller.signal);
    controller.abort(new Error("client went away"));
    await expect(waiting).rejects.toThrow("client went away");
    expect(limiter.stats("k")).toEqual({ active: 1, queued: 0 });
    release();
    expect(limiter.stats("k").active).toBe(0);
  });
});

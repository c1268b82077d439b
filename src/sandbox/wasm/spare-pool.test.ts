import { freemem } from "node:os";
import { describe, expect, it } from "vitest";
import { PreparationGauge } from "./preparation-gauge.js";
import { availableMemory, recentReading, SparePool, type SparePoolOptions } from "./spare-pool.js";

const MiB = 1024 * 1024;

interface Fake {
  readonly id: number;
  readonly limit: number;
}

/** A pool whose background work runs only when the test says so. */
function harness(options: Partial<SparePoolOptions<Fake>> = {}) {
  let next = 1;
  const queued: Array<() => void> = [];
  const discarded: Fake[] = [];
  let fail = false;
  const pool = new SparePool<Fake>({
    prepare: async (limit) => {
      if (fail) throw new Error("prepare failed");
      return { id: next++, limit };
    },
    discard: (instance) => discarded.push(instance),
    schedule: (task) => queued.push(task),
    availableMemory: () => 8192 * MiB,
    ...options,
  });
  return {
    pool,
    discarded,
    setFail: (value: boolean) => {
      fail = value;
    },
    runBackground: () => {
      while (queued.length > 0) queued.shift()?.();
    },
  };
}

describe("SparePool", () => {
  it("hands out each prepared instance once and prepares the next in the background", async () => {
    const { pool, runBackground } = harness();
    pool.refill(64 * MiB);
    expect(pool.size).toBe(0); // nothing happens before the current work yields
    runBackground();
    expect(pool.size).toBe(1);
    const first = await pool.take(64 * MiB);
    expect(first.id).toBe(1);
    expect(pool.size).toBe(0);
    const second = await pool.take(64 * MiB); // no spare ready: prepared on the spot
    expect(second.id).toBe(2);
    expect(pool.stats()).toMatchObject({ prepared: 1, hits: 1, misses: 1 });
  });

  it("never hands the same instance out twice", async () => {
    const { pool, runBackground } = harness();
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      pool.refill(MiB);
      if (i % 3 === 0) runBackground();
      const instance = await pool.take(MiB);
      expect(seen.has(instance.id)).toBe(false);
      seen.add(instance.id);
    }
    expect(seen.size).toBe(20);
  });

  it("keeps at most `capacity` spares, one more per background turn", async () => {
    const { pool, runBackground } = harness({ capacity: 3 });
    pool.refill(MiB);
    runBackground();
    expect(pool.size).toBe(3);
    pool.refill(MiB);
    runBackground();
    expect(pool.size).toBe(3);
  });

  it("drops spares built for another memory limit and answers with the limit asked for", async () => {
    const { pool, discarded, runBackground } = harness();
    pool.refill(64 * MiB);
    runBackground();
    const instance = await pool.take(128 * MiB);
    expect(instance.limit).toBe(128 * MiB);
    await Promise.resolve();
    expect(discarded.map((d) => d.limit)).toEqual([64 * MiB]);
    expect(pool.stats().dropped).toBe(1);
  });

  it("prepares nothing in the background when the host is short of memory", async () => {
    const { pool, runBackground } = harness({ availableMemory: () => 100 * MiB, minAvailableMemoryBytes: 256 * MiB });
    pool.refill(MiB);
    runBackground();
    expect(pool.size).toBe(0);
    expect((await pool.take(MiB)).id).toBe(1);
  });

  it("retries on the spot when a background preparation failed", async () => {
    const { pool, setFail, runBackground } = harness();
    setFail(true);
    pool.refill(MiB);
    runBackground();
    setFail(false);
    const instance = await pool.take(MiB);
    expect(instance.limit).toBe(MiB);
    expect(pool.stats().misses).toBe(1);
  });

  it("capacity 0 prepares only on demand; close() drops the spares", async () => {
    const none = harness({ capacity: 0 });
    none.pool.refill(MiB);
    none.runBackground();
    expect(none.pool.size).toBe(0);

    const { pool, discarded, runBackground } = harness();
    pool.refill(MiB);
    runBackground();
    pool.close();
    await Promise.resolve();
    await Promise.resolve();
    expect(pool.size).toBe(0);
    expect(discarded).toHaveLength(1);
    pool.refill(MiB);
    runBackground();
    expect(pool.size).toBe(0);
  });
});

describe("SparePool.prime", () => {
  it("prepares the spares before it resolves and rejects when preparing fails", async () => {
    const { pool, setFail } = harness({ capacity: 2 });
    await pool.prime(MiB);
    expect(pool.size).toBe(2);
    expect((await pool.take(MiB)).id).toBe(1);

    const failing = harness();
    failing.setFail(true);
    await expect(failing.pool.prime(MiB)).rejects.toThrow("prepare failed");
    setFail(false);
  });

  it("with capacity 0 still prepares one instance, discards it, and rejects when that fails", async () => {
    const none = harness({ capacity: 0 });
    await none.pool.prime(MiB);
    expect(none.pool.size).toBe(0);
    expect(none.discarded).toEqual([{ id: 1, limit: MiB }]);
    expect((await none.pool.take(MiB)).id).toBe(2);
    expect(none.pool.stats()).toMatchObject({ prepared: 0, hits: 0, misses: 1 });

    const failing = harness({ capacity: 0 });
    failing.setFail(true);
    await expect(failing.pool.prime(MiB)).rejects.toThrow("prepare failed");
  });
});

describe("availableMemory", () => {
  it("is what Node says this process can still allocate, never more than the host has free", () => {
    const available = availableMemory();
    expect(available).toBeGreaterThan(0);
    const fromProcess = (process as { availableMemory?: () => number }).availableMemory;
    if (typeof fromProcess === "function") {
      // Both read the same counters at slightly different moments.
      expect(Math.abs(available - fromProcess.call(process))).toBeLessThan(64 * MiB);
    }
    expect(available).toBeLessThanOrEqual(freemem() + 64 * MiB);
  });
});

describe("recentReading", () => {
  it("reads again only once its last reading is maxAgeMs old", () => {
    let time = 0;
    let value = 1000;
    let reads = 0;
    const read = recentReading(
      () => {
        reads++;
        return value;
      },
      100,
      () => time,
    );
    expect(read()).toBe(1000);
    value = 10;
    time = 99;
    expect(read()).toBe(1000);
    expect(reads).toBe(1);
    time = 100;
    expect(read()).toBe(10);
    expect(reads).toBe(2);
    value = 5;
    time = 150;
    expect(read()).toBe(10);
    time = 200;
    expect(read()).toBe(5);
    expect(reads).toBe(3);
  });
});

describe("SparePool with a preparation gauge", () => {
  it("counts a background preparation from its scheduling until it settled", async () => {
    const gauge = new PreparationGauge();
    let finish: (() => void) | undefined;
    const queued: Array<() => void> = [];
    const pool = new SparePool<number>({
      prepare: () =>
        new Promise<number>((resolve) => {
          finish = () => resolve(1);
        }),
      schedule: (task) => queued.push(task),
      availableMemory: () => 8192 * MiB,
      gauge,
    });
    pool.refill(64 * MiB);
    expect(gauge.busy).toBe(true);
    queued.shift()?.();
    expect(gauge.busy).toBe(true);
    finish?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(gauge.busy).toBe(false);
  });

  it("ends the count when there was nothing to prepare, and after a failed preparation", async () => {
    const gauge = new PreparationGauge();
    const queued: Array<() => void> = [];
    const failing = new SparePool<number>({
      prepare: () => Promise.reject(new Error("no")),
      schedule: (task) => queued.push(task),
      availableMemory: () => 8192 * MiB,
      gauge,
    });
    failing.refill(64 * MiB);
    queued.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(gauge.busy).toBe(false);

    const short = new SparePool<number>({
      prepare: async () => 1,
      schedule: (task) => queued.push(task),
      availableMemory: () => 0,
      gauge,
    });
    short.refill(64 * MiB);
    expect(gauge.busy).toBe(true);
    queued.shift()?.();
    expect(gauge.busy).toBe(false);
  });
});

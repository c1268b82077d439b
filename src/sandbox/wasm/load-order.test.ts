import { describe, expect, it } from "vitest";
import {
  BOOTLESS_LOADS,
  byLoadPriority,
  defaultLoadConcurrency,
  LOAD_PRIORITY,
  runLimited,
  startLoads,
} from "./load-order.js";

describe("load order", () => {
  it("sorts languages by LOAD_PRIORITY", () => {
    expect(byLoadPriority(["bash", "python", "ruby", "javascript"])).toEqual([...LOAD_PRIORITY]);
    expect(byLoadPriority(["bash", "javascript"])).toEqual(["javascript", "bash"]);
  });

  it("loads at least two at once, one per core beyond that", () => {
    expect(defaultLoadConcurrency(1)).toBe(2);
    expect(defaultLoadConcurrency(2)).toBe(2);
    expect(defaultLoadConcurrency(8)).toBe(8);
  });

  it("runs at most `concurrency` tasks at once, in order, and a failure frees its place", async () => {
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const results = runLimited([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5 * (6 - n)));
      running--;
      if (n === 2) throw new Error("two failed");
      return n * 10;
    });
    const settled = await Promise.allSettled(results);
    expect(peak).toBe(2);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value : "failed"))).toEqual([10, "failed", 30, 40, 50]);
  });

  it("starts a bootless load at once, beside the limited booting ones", async () => {
    expect(BOOTLESS_LOADS).toEqual(["javascript"]);
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const results = startLoads(["javascript", "ruby", "python", "bash"], 2, (language) => {
      started.push(language);
      return new Promise<string>((resolve) => finish.set(language, () => resolve(`${language} loaded`)));
    });
    // javascript took no place: ruby and python boot beside it, bash waits for one of them.
    expect(started).toEqual(["javascript", "ruby", "python"]);
    finish.get("python")?.();
    await results[2];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(["javascript", "ruby", "python", "bash"]);
    for (const done of finish.values()) done();
    expect(await Promise.all(results)).toEqual(["javascript loaded", "ruby loaded", "python loaded", "bash loaded"]);
  });
});

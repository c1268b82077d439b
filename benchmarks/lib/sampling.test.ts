import { describe, expect, it } from "vitest";
import { isUnavailable } from "./results.js";
import { sampleSequential } from "./sampling.js";

describe("sampleSequential", () => {
  it("times only successful runs after the warm-up", async () => {
    let calls = 0;
    const result = await sampleSequential(
      async () => {
        calls++;
        return calls % 5 === 0 ? { ok: false, ms: 999, failure: "boom" } : { ok: true, ms: calls };
      },
      { warmup: 3, samples: 10 },
    );
    if (isUnavailable(result)) throw new Error(result.unavailable);
    expect(result.n).toBe(10);
    expect(result.failures).toBeGreaterThan(0);
    expect(result.maxMs).toBeLessThan(999);
    expect(result.minMs).toBeGreaterThan(3);
    expect(result.sandboxP50Ms).toBeUndefined();
  });

  it("summarises the server-reported inner time when every sample has one", async () => {
    let calls = 0;
    const result = await sampleSequential(async () => ({ ok: true, ms: 10, innerMs: ++calls }), {
      warmup: 0,
      samples: 5,
    });
    if (isUnavailable(result)) throw new Error(result.unavailable);
    expect(result.sandboxP50Ms).toBe(3);
  });

  it("reports unavailable with the first failure when most runs fail", async () => {
    const result = await sampleSequential(async () => ({ ok: false, ms: 1, failure: "RUNTIME_UNAVAILABLE" }), {
      warmup: 0,
      samples: 4,
    });
    expect(isUnavailable(result)).toBe(true);
    expect(JSON.stringify(result)).toContain("RUNTIME_UNAVAILABLE");
  });

  it("gives up during the warm-up", async () => {
    let calls = 0;
    const result = await sampleSequential(
      async () => {
        calls++;
        return { ok: false, ms: 1, failure: "down" };
      },
      { warmup: 10, samples: 100 },
    );
    expect(isUnavailable(result)).toBe(true);
    expect(calls).toBeLessThan(10);
  });

  it("stops at maxSeconds with the samples it has", async () => {
    const result = await sampleSequential(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { ok: true, ms: 20 };
      },
      { warmup: 0, samples: 1_000, maxSeconds: 0.1 },
    );
    if (isUnavailable(result)) throw new Error(result.unavailable);
    expect(result.n).toBeGreaterThan(0);
    expect(result.n).toBeLessThan(1_000);
  });
});

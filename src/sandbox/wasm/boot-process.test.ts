import { describe, expect, it } from "vitest";
import { runBootProcess } from "./boot-process.js";

const FIXTURE = new URL("./boot-process.fixture.ts", import.meta.url).href;

describe("runBootProcess", () => {
  it("runs the named export in a Liftoff-only child process and returns its structured-cloned result", async () => {
    const result = await runBootProcess<{ label: string; bytes: Uint8Array; liftoffOnly: boolean }>({
      module: FIXTURE,
      export: "describeBoot",
      args: ["hello"],
    });
    expect(result.label).toBe("hello");
    expect(result.bytes).toBeInstanceOf(Uint8Array);
    expect([...result.bytes]).toEqual([1, 2, 3]);
    expect(result.liftoffOnly).toBe(true);
  }, 30_000);

  it("rejects with the boot's own reason", async () => {
    await expect(runBootProcess({ module: FIXTURE, export: "failBoot" })).rejects.toThrow("the boot failed on purpose");
  }, 30_000);

  it("rejects when the export does not exist", async () => {
    await expect(runBootProcess({ module: FIXTURE, export: "nothing" })).rejects.toThrow(/exports no function nothing/);
  }, 30_000);

  it("rejects when the boot takes longer than its timeout", async () => {
    const started = performance.now();
    await expect(
      runBootProcess({ module: FIXTURE, export: "describeBoot", args: ["x"] }, { timeoutMs: 1 }),
    ).rejects.toThrow(/did not finish within 1 ms/);
    expect(performance.now() - started).toBeLessThan(5_000);
  }, 30_000);
});

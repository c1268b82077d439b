/**
 * load() evaluates the just-bash bundle once, in a boot process, and a runner's first instance is a
 * clone of that seed (the engine addresses match), not a second evaluation of the bundle.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import { runBootProcess, stopIdleBootChild } from "../../src/sandbox/wasm/boot-process.js";
import { PYTHON_BOOT } from "../boot-entries.js";
import { BashInstance } from "./bash-instance.js";
import { type BashRunner, bashWasmRuntime } from "./wasm.js";

const FIXTURE = new URL("../../src/sandbox/wasm/boot-process.fixture.ts", import.meta.url).href;

describe("bash load()", () => {
  it("ships a seed that runners clone instead of evaluating the bundle again", async () => {
    const assets = await bashWasmRuntime.load();
    const image = (assets.seed as { image?: { byteLength: number; data: Uint8Array } }).image;
    expect(image?.data).toBeInstanceOf(Uint8Array);
    // Only the non-zero pages travel: the evaluated instance's memory is larger than its image's data.
    expect(image?.data.byteLength).toBeLessThan(image?.byteLength ?? 0);
    const runner = (await bashWasmRuntime.createRunner(assets)) as BashRunner;
    const stats = await runner.stats();
    expect(stats.cloned).toBe(true);
    expect(stats.instancesCreated).toBe(1);
    let out = "";
    const outcome = await runner.run(
      { language: "bash", code: "echo $((6 * 7))", stdin: "", args: [], env: {}, files: [] },
      {
        limits: DEFAULT_LIMITS,
        deadline: Date.now() + 10_000,
        stdout: {
          write(chunk) {
            out += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
          },
          length: 0,
        },
        stderr: { write: () => undefined, length: 0 },
        cancelled: () => false,
        http: () => ({ ok: false, code: "EGRESS_DENIED", message: "no network" }),
      },
    );
    expect(outcome.exitCode).toBe(0);
    expect(out).toBe("42\n");
  }, 120_000);

  it("ships a seed runners clone when its boot ran in the child that booted Python before", async () => {
    // boot-process.ts keeps a child that finished a boot for the next one (at start: Bash after Python).
    const before = await runBootProcess<{ pid: number }>({ module: FIXTURE, export: "bootPid" });
    await runBootProcess(PYTHON_BOOT);
    const after = await runBootProcess<{ pid: number }>({ module: FIXTURE, export: "bootPid" });
    expect(after.pid).toBe(before.pid);
    const assets = await bashWasmRuntime.load();
    const runner = (await bashWasmRuntime.createRunner(assets)) as BashRunner;
    expect((await runner.stats()).cloned).toBe(true);
    stopIdleBootChild();
  }, 120_000);

  it("fails the boot when its rehearsal fails (a broken bundle never becomes a seed)", async () => {
    const { module, bundle, shims } = await bashWasmRuntime.load();
    if (!(module instanceof WebAssembly.Module) || typeof bundle !== "string" || typeof shims !== "string") {
      throw new Error("bash assets are incomplete");
    }
    await expect(BashInstance.create(module, { bundle, shims }, "echo broken >&2; exit 3")).rejects.toThrow(
      /rehearsal failed: Error: exit 3: broken/,
    );
    const rehearsed = await BashInstance.create(module, { bundle, shims });
    expect(rehearsed.usable).toBe(true);
  }, 120_000);
});

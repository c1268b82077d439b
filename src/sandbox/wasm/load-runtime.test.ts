import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RuntimeLoader } from "./load-runtime.js";

/** The snapshot cache directories this file's tests make are made in here, removed once they ran. */
const root = mkdtempSync(join(tmpdir(), "load-runtime-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("RuntimeLoader", () => {
  it("loads several languages concurrently in its one worker, each reply its own", async () => {
    const loader = new RuntimeLoader();
    try {
      const [javascript, python, unknown] = await Promise.all([
        loader.load("javascript"),
        loader.load("python"),
        // A language with no wasm runtime fails alone.
        loader.load("cobol" as never),
      ]);
      expect(javascript.ok && javascript.info.name).toBe("quickjs");
      expect(python.ok && python.info.name).toBe("cpython");
      expect(unknown).toEqual({ ok: false, reason: "no WebAssembly runtime for this language yet" });
    } finally {
      await loader[Symbol.asyncDispose]();
    }
  }, 60_000);

  it("refuses loads once closed, and ends a load in progress when disposed or aborted", async () => {
    const closed = new RuntimeLoader();
    closed.close();
    expect(await closed.load("javascript")).toEqual({ ok: false, reason: "the wasm sandbox shut down while loading" });

    const loader = new RuntimeLoader();
    const aborted = new AbortController();
    const first = loader.load("python", { signal: aborted.signal });
    const second = loader.load("ruby");
    aborted.abort();
    expect(await first).toEqual({ ok: false, reason: "the wasm sandbox shut down while loading" });
    await loader[Symbol.asyncDispose]();
    expect(await second).toEqual({ ok: false, reason: "the wasm sandbox shut down while loading" });
  });

  it("starts before it is configured, takes its setup once, and loads with it", async () => {
    const cacheDir = mkdtempSync(join(root, "loader-configure-"));
    const loader = new RuntimeLoader().start();
    try {
      // Given after the thread started: the setup still applies to the loads (the cache is used).
      loader.configure({ snapshotCacheDir: cacheDir, bootConcurrency: 1 });
      expect(() => loader.configure({})).toThrow(/already configured/);
      const python = await loader.load("python");
      expect(python.ok && python.info.name).toBe("cpython");
      expect(python.bootCacheLog?.length ?? 0).toBeGreaterThan(0);
      expect(readdirSync(cacheDir).some((name) => name.endsWith(".bin"))).toBe(true);
    } finally {
      await loader[Symbol.asyncDispose]();
    }
    // A load configures a loader that was not: with the constructor's setup.
    const unconfigured = new RuntimeLoader();
    try {
      expect((await unconfigured.load("javascript")).ok).toBe(true);
      expect(() => unconfigured.configure({})).toThrow(/already configured/);
    } finally {
      await unconfigured[Symbol.asyncDispose]();
    }
  }, 90_000);

  it("fails a load at once when its early-started worker already ended", async () => {
    const loader = new RuntimeLoader().start();
    const worker = (loader as unknown as { worker: { terminate(): Promise<number> } }).worker;
    await worker.terminate();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    const reply = await loader.load("javascript");
    expect(reply).toMatchObject({ ok: false, reason: expect.stringMatching(/runtime loader exited/) });
    expect(performance.now() - started).toBeLessThan(1_000);
    await loader[Symbol.asyncDispose]();
  });

  it("fails a load that takes longer than its timeout", async () => {
    const loader = new RuntimeLoader();
    try {
      expect(await loader.load("python", { timeoutMs: 1 })).toEqual({
        ok: false,
        reason: "loading took longer than 1 ms",
      });
    } finally {
      await loader[Symbol.asyncDispose]();
    }
  });
});

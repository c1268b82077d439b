import { describe, expect, it } from "vitest";
import { RuntimeLoader } from "./load-runtime.js";

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

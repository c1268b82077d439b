import { describe, expect, it } from "vitest";
import { languageAvailable, snapshotCacheEvents } from "./cold-start.js";

describe("cold start helpers", () => {
  it("counts the snapshot cache's hits and misses of one language in a server's JSON log", () => {
    const log = [
      JSON.stringify({ level: 30, msg: "snapshot cache hit", language: "ruby" }),
      JSON.stringify({ level: 30, msg: "snapshot cache miss", language: "python" }),
      JSON.stringify({ level: 30, msg: "snapshot cache hit", language: "python" }),
      "not json, snapshot cache",
      JSON.stringify({ level: 30, msg: "wasm runtime available", language: "ruby" }),
    ].join("\n");
    expect(snapshotCacheEvents(log, "ruby")).toEqual({ hits: 1, misses: 0 });
    expect(snapshotCacheEvents(log, "python")).toEqual({ hits: 1, misses: 1 });
    expect(snapshotCacheEvents(log, "javascript")).toEqual({ hits: 0, misses: 0 });
  });

  it("reads a language's state from a /readyz body", () => {
    expect(languageAvailable({ sandboxes: { wasm: { ruby: "available" } } }, "ruby")).toBe(true);
    expect(languageAvailable({ sandboxes: { wasm: { ruby: "loading" } } }, "ruby")).toBe(false);
    expect(languageAvailable(null, "ruby")).toBe(false);
  });
});

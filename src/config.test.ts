import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("control-plane configuration", () => {
  it("defaults the ad-hoc policy to read-only, never asking, persisting the whole workspace", () => {
    const config = loadConfig({});
    expect(config.defaultPolicy).toMatchObject({
      sideEffect: "read-only",
      approval: "never",
      filesystem: { persist: ["/workspace"] },
    });
    expect(config.approvalTtlMs).toBe(15 * 60_000);
    expect(config.storePath).toBeUndefined();
  });

  it("parses SANDBOX_DEFAULT_POLICY as a policy, and refuses a bad one naming the variable", () => {
    expect(loadConfig({ SANDBOX_DEFAULT_POLICY: '{"approval":"always"}' }).defaultPolicy.approval).toBe("always");
    expect(() => loadConfig({ SANDBOX_DEFAULT_POLICY: "{not json" })).toThrow(
      /SANDBOX_DEFAULT_POLICY: must be a JSON policy/,
    );
    expect(() => loadConfig({ SANDBOX_DEFAULT_POLICY: '{"approval":"maybe"}' })).toThrow(ConfigError);
    expect(() => loadConfig({ SANDBOX_DEFAULT_POLICY: '{"limits":{"timeoutMs":99999999}}' })).toThrow(
      /SANDBOX_DEFAULT_POLICY: policy.limits.timeoutMs: must not exceed/,
    );
  });
});

describe("snapshot cache configuration", () => {
  it("is off by default, and set by SANDBOX_SNAPSHOT_CACHE_DIR or --snapshot-cache-dir (the flag wins)", () => {
    expect(loadConfig({}).snapshotCacheDir).toBeUndefined();
    expect(loadConfig({ SANDBOX_SNAPSHOT_CACHE_DIR: "/var/cache/is" }).snapshotCacheDir).toBe("/var/cache/is");
    expect(loadConfig({ SANDBOX_SNAPSHOT_CACHE_DIR: "/a" }, ["--snapshot-cache-dir", "/b"]).snapshotCacheDir).toBe(
      "/b",
    );
    expect(loadConfig({}, ["--snapshot-cache-dir=/c"]).snapshotCacheDir).toBe("/c");
  });
});

describe("wasm languages configuration", () => {
  it("loads every language by default; SANDBOX_WASM_LANGUAGES or --wasm-languages picks some", () => {
    expect(loadConfig({}).wasmLanguages).toEqual(["javascript", "ruby", "python", "bash"]);
    expect(loadConfig({ SANDBOX_WASM_LANGUAGES: " python , ruby,python" }).wasmLanguages).toEqual(["python", "ruby"]);
    expect(loadConfig({ SANDBOX_WASM_LANGUAGES: "ruby" }, ["--wasm-languages=bash"]).wasmLanguages).toEqual(["bash"]);
  });

  it("refuses an unknown language or an empty list, naming the variable", () => {
    expect(() => loadConfig({ SANDBOX_WASM_LANGUAGES: "python,cobol" })).toThrow(
      /SANDBOX_WASM_LANGUAGES: entries must be among javascript, ruby, python, bash/,
    );
    expect(() => loadConfig({}, ["--wasm-languages", ","])).toThrow(/SANDBOX_WASM_LANGUAGES: name at least one/);
  });
});

describe("spare instances configuration", () => {
  it("keeps one spare per language and worker above 256 MiB available by default; SANDBOX_SPARES or --spares sets it", () => {
    const defaults = loadConfig({});
    expect(defaults.spares).toBe(1);
    expect(defaults.spareMinAvailableBytes).toBe(256 * 1024 * 1024);
    expect(loadConfig({ SANDBOX_SPARES: "4" }).spares).toBe(4);
    expect(loadConfig({ SANDBOX_SPARES: "4" }, ["--spares", "3"]).spares).toBe(3);
    expect(loadConfig({ SANDBOX_SPARE_MIN_AVAILABLE_BYTES: "1048576" }).spareMinAvailableBytes).toBe(1048576);
  });

  it("refuses no spare, a fractional or an oversized count, naming the variable", () => {
    for (const value of ["0", "1.5", "17", "many"]) {
      expect(() => loadConfig({ SANDBOX_SPARES: value })).toThrow(/SANDBOX_SPARES/);
    }
    expect(() => loadConfig({ SANDBOX_SPARE_MIN_AVAILABLE_BYTES: "-5" })).toThrow(/SANDBOX_SPARE_MIN_AVAILABLE_BYTES/);
  });
});

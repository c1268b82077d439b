import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { createLogger } from "../logger.js";
import { createSandboxes } from "./factory.js";
import { languageState, languageStatuses } from "./registry.js";

describe("createSandboxes", () => {
  it("loads only the configured wasm languages; the others are unavailable there", async () => {
    const config = loadConfig({
      SANDBOX_WASM_LANGUAGES: "javascript",
      SANDBOX_PROCESS_SANDBOX: "false",
      SANDBOX_WORKERS: "1",
    });
    const registry = await createSandboxes(config, createLogger({ level: "silent" }));
    try {
      await registry.loaded();
      const wasm = registry.get("wasm");
      if (!wasm) throw new Error("no wasm sandbox");
      expect(languageStatuses(wasm).map((s) => [s.language, s.state])).toEqual([["javascript", "available"]]);
      expect(languageState(wasm, "python")).toEqual({
        state: "unavailable",
        reason: "the wasm sandbox does not run python",
      });
      expect(registry.get("process")).toBeUndefined();
    } finally {
      await registry[Symbol.asyncDispose]();
    }
  }, 60_000);
});

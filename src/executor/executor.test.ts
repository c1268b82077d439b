import { describe, expect, it } from "vitest";
import { loadingSandbox } from "../../test/support/loading-sandbox.js";
import { limitPolicy, loadConfig } from "../config.js";
import { ServiceError } from "../errors.js";
import { silentLogger } from "../logger.js";
import { type LanguageStatus, SandboxRegistry } from "../sandbox/registry.js";
import { Executor } from "./executor.js";

function executor(statuses: LanguageStatus[]) {
  return new Executor({
    sandboxes: new SandboxRegistry([loadingSandbox(statuses)]),
    limits: limitPolicy(loadConfig({})),
    defaultSandbox: "wasm",
    logger: silentLogger(),
  });
}

describe("Executor.select with languages loading one by one", () => {
  it("selects a language that is still loading (the sandbox waits for it)", () => {
    const selected = executor([{ language: "ruby", state: "loading" }]).select(undefined, "ruby");
    expect(selected.kind).toBe("wasm");
  });

  it("refuses a language whose load failed with RUNTIME_UNAVAILABLE and the reason", () => {
    const run = () =>
      executor([{ language: "ruby", state: "unavailable", reason: "ruby.wasm is missing" }]).select("wasm", "ruby");
    expect(run).toThrow(ServiceError);
    expect(run).toThrow(/ruby is not available on the wasm sandbox: ruby\.wasm is missing/);
    try {
      run();
    } catch (error) {
      expect((error as ServiceError).code).toBe("RUNTIME_UNAVAILABLE");
    }
  });

  it("refuses a language the sandbox was not configured for", () => {
    expect(() => executor([]).select("wasm", "bash")).toThrow(/bash is not available on the wasm sandbox/);
  });
});

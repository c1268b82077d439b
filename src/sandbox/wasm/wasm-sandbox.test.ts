/**
 * Per-language availability: the sandbox serves as soon as its workers run, each language becomes
 * usable when its own load finished, an execution of a language still loading waits for it, and a
 * language whose load failed is refused with the reason (never run elsewhere).
 */
import { afterEach, describe, expect, it } from "vitest";
import { ServiceError } from "../../errors.js";
import { silentLogger } from "../../logger.js";
import { DEFAULT_LIMITS } from "../limits.js";
import { languageState } from "../registry.js";
import type { ExecutionRequest, Language } from "../types.js";
import { type LoaderReply, loadRuntime } from "./load-runtime.js";
import { WasmSandbox } from "./wasm-sandbox.js";

const request = (language: Language, code: string): ExecutionRequest => ({
  language,
  code,
  stdin: "",
  args: [],
  env: {},
  files: [],
});

function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

let sandbox: WasmSandbox | undefined;
afterEach(async () => {
  await sandbox?.[Symbol.asyncDispose]();
  sandbox = undefined;
});

describe("WasmSandbox per-language availability", () => {
  it("runs a language that becomes available after start, waiting for its load", async () => {
    const gate = deferred<void>();
    sandbox = await WasmSandbox.start({
      logger: silentLogger(),
      workers: 1,
      languages: ["javascript"],
      load: async (language, signal) => {
        await gate.promise;
        return loadRuntime(language, { signal });
      },
    });
    expect(sandbox.languageStates()).toEqual([{ language: "javascript", state: "loading" }]);
    expect(sandbox.languages()).toEqual([]);
    expect(sandbox.availability()).toEqual({ available: true });
    const pending = sandbox.execute(request("javascript", "console.log(6 * 7)"), { limits: DEFAULT_LIMITS });
    let done = false;
    void pending.then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    gate.resolve();
    const result = await pending;
    expect(result.stdout).toBe("42\n");
    expect(result.exitCode).toBe(0);
    expect(languageState(sandbox, "javascript")).toMatchObject({ state: "available" });
    await sandbox.loaded();
  }, 60_000);

  it("refuses a language whose load failed with RUNTIME_UNAVAILABLE and the reason, and keeps the others", async () => {
    sandbox = await WasmSandbox.start({
      logger: silentLogger(),
      workers: 1,
      languages: ["javascript", "ruby"],
      load: async (language, signal): Promise<LoaderReply> =>
        language === "ruby" ? { ok: false, reason: "ruby.wasm is broken here" } : loadRuntime(language, { signal }),
    });
    await sandbox.loaded();
    expect(sandbox.unavailable).toEqual([{ language: "ruby", reason: "ruby.wasm is broken here" }]);
    expect(sandbox.languages().map((l) => l.language)).toEqual(["javascript"]);
    const refused = sandbox.execute(request("ruby", "puts 1"), { limits: DEFAULT_LIMITS });
    await expect(refused).rejects.toBeInstanceOf(ServiceError);
    await expect(refused).rejects.toMatchObject({ code: "RUNTIME_UNAVAILABLE" });
    await expect(refused).rejects.toThrow(/ruby\.wasm is broken here/);
    const ok = await sandbox.execute(request("javascript", "console.log(1)"), { limits: DEFAULT_LIMITS });
    expect(ok.stdout).toBe("1\n");
  }, 60_000);

  it("refuses a language it was not configured for", async () => {
    sandbox = await WasmSandbox.start({
      logger: silentLogger(),
      workers: 1,
      languages: ["javascript"],
      load: async () => ({ ok: false, reason: "not needed" }),
    });
    await expect(sandbox.execute(request("python", "print(1)"), { limits: DEFAULT_LIMITS })).rejects.toMatchObject({
      code: "RUNTIME_UNAVAILABLE",
    });
    await sandbox.loaded();
    expect(sandbox.availability()).toEqual({ available: false, reason: "no WebAssembly runtime could be loaded" });
  }, 30_000);

  it("stops waiting for a load when the request is aborted (NOT_READY: nothing ran)", async () => {
    const gate = deferred<LoaderReply>();
    sandbox = await WasmSandbox.start({
      logger: silentLogger(),
      workers: 1,
      languages: ["javascript"],
      load: () => gate.promise,
    });
    const controller = new AbortController();
    const pending = sandbox.execute(request("javascript", "console.log(1)"), {
      limits: DEFAULT_LIMITS,
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "NOT_READY" });
    gate.resolve({ ok: false, reason: "cancelled by the test" });
    await sandbox.loaded();
  }, 30_000);
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.js";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { expectNoLeak, expectOutcome, type HostCanaries, loadFixtures, plantCanaries } from "./oracle.js";

const canaries: HostCanaries = plantCanaries();
let sandbox: WasmSandbox;

beforeAll(async () => {
  sandbox = await WasmSandbox.create({ logger: silentLogger(), workers: 2, languages: ["javascript"] });
});
afterAll(async () => {
  await sandbox?.[Symbol.asyncDispose]();
  canaries.cleanup();
});

const limits = { ...DEFAULT_LIMITS, timeoutMs: 1_500, memoryLimitBytes: 64 * 1024 * 1024 };
const run = (code: string) =>
  sandbox.execute({ language: "javascript", code, stdin: "", args: [], env: {}, files: [] }, { limits });

describe("javascript on wasm: escape attempts", () => {
  for (const fixture of loadFixtures("javascript", canaries)) {
    it(fixture.name, async () => {
      const result = await run(fixture.code);
      expectOutcome(result, fixture.expect);
      expectNoLeak(result, canaries);
      if (fixture.expect === "TIMEOUT")
        expect(result.durationMs).toBeLessThan(limits.timeoutMs + limits.killGraceMs + 1_000);
    });
  }

  it("leaves the next execution untouched after a polluting one", async () => {
    await run(loadFixtures("javascript", canaries).find((f) => f.name === "proto-pollution.js")?.code ?? "");
    const result = await run(
      'const a = []; a.push(1); console.log(({}).polluted, JSON.parse("[1]").length, a.length);',
    );
    expect(result.stdout).toBe("undefined 1 1\n");
  });

  it("has one way out, fetch, and without an effect handler it refuses everything", async () => {
    const result = await run(
      [
        "(async () => {",
        "  try { await fetch('http://127.0.0.1:1/'); console.log('ESCAPED'); } catch (e) { console.log('fetch', e.code); }",
        "  try { await fetch('http://169.254.169.254/', { method: 'POST', body: 'x' }); console.log('ESCAPED'); } catch (e) { console.log('fetch', e.code); }",
        "  console.log(typeof __host, typeof globalThis.__host, Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith('__')).length);",
        "})();",
      ].join("\n"),
    );
    expect(result.stdout).toBe("fetch EGRESS_DENIED\nfetch EGRESS_DENIED\nundefined undefined 0\n");
  });
});

/**
 * Runs one language's attack fixtures on the wasm sandbox with the shared oracles: the outcome each
 * fixture declares, and no host data in anything the guest returned.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.js";
import { DEFAULT_LIMITS, type Limits } from "../../src/sandbox/limits.js";
import type { ExecutionResult, Language } from "../../src/sandbox/types.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { expectNoLeak, expectOutcome, type HostCanaries, loadFixtures, plantCanaries } from "./oracle.js";

export interface SecuritySuite {
  run(code: string, env?: Record<string, string>): Promise<ExecutionResult>;
}

export function runSecuritySuite(
  language: Language,
  limits: Partial<Limits>,
  extra: (suite: SecuritySuite) => void,
): void {
  const canaries: HostCanaries = plantCanaries();
  let sandbox: WasmSandbox;
  const merged: Limits = { ...DEFAULT_LIMITS, ...limits };

  beforeAll(async () => {
    sandbox = await WasmSandbox.create({ logger: silentLogger(), workers: 2, languages: [language] });
  });
  afterAll(async () => {
    await sandbox?.[Symbol.asyncDispose]();
    canaries.cleanup();
  });

  const suite: SecuritySuite = {
    run: (code, env = { ONLY: "this" }) =>
      sandbox.execute({ language, code, stdin: "", args: [], env, files: [] }, { limits: merged }),
  };

  describe(`${language} on wasm: escape attempts`, () => {
    for (const fixture of loadFixtures(language, canaries)) {
      it(fixture.name, async () => {
        const result = await suite.run(fixture.code);
        expectOutcome(result, fixture.expect);
        expectNoLeak(result, canaries);
        if (fixture.expect === "TIMEOUT")
          expect(result.durationMs).toBeLessThan(merged.timeoutMs + merged.killGraceMs + 2_000);
      });
    }
    extra(suite);
  });
}

/**
 * Shared oracles for the security suites (the just-bash way): attack fixtures are files, every result
 * is checked for host data, and each fixture states the outcome it must end with in a header line:
 *   `// expect: OK` (exit 0), `// expect: FAIL` (non-zero exit), `// expect: TIMEOUT`, `// expect: MEMORY_LIMIT`,
 *   `// expect: ANY` (any outcome, as long as nothing leaks). `#` comments work the same.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { ExecutionResult } from "../../src/sandbox/types.js";

export const CANARY_ENV = "INLINE_SANDBOX_SECURITY_CANARY";

export interface HostCanaries {
  readonly env: string;
  readonly fileContent: string;
  readonly filePath: string;
  cleanup(): void;
}

/** Plants a secret in the server's environment and one in a host file. */
export function plantCanaries(): HostCanaries {
  const env = `env-canary-${randomBytes(12).toString("hex")}`;
  const fileContent = `file-canary-${randomBytes(12).toString("hex")}`;
  const dir = mkdtempSync(join(tmpdir(), "security-"));
  const filePath = join(dir, "secret.txt");
  writeFileSync(filePath, fileContent);
  process.env[CANARY_ENV] = env;
  return {
    env,
    fileContent,
    filePath,
    cleanup() {
      delete process.env[CANARY_ENV];
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Nothing of the host is in the output or the files: no canary, no host path of this checkout. */
export function expectNoLeak(result: ExecutionResult, canaries: HostCanaries): void {
  const everything = [
    result.stdout,
    result.stderr,
    ...result.files.map((f) => new TextDecoder().decode(f.content)),
  ].join("\n");
  expect(everything).not.toContain(canaries.env);
  expect(everything).not.toContain(canaries.fileContent);
  expect(everything).not.toContain(CANARY_ENV);
  expect(everything).not.toContain(process.cwd());
  expect(everything).not.toMatch(/node_modules/);
  expect(everything).not.toContain("ESCAPED");
}

export type Expectation = "OK" | "FAIL" | "TIMEOUT" | "MEMORY_LIMIT" | "ANY";

export interface Fixture {
  readonly name: string;
  readonly code: string;
  readonly expect: Expectation;
}

/** Loads `fixtures/<language>/*`, substituting `__SECRET_FILE__` with the planted file's path. */
export function loadFixtures(language: string, canaries: HostCanaries): Fixture[] {
  const dir = new URL(`./fixtures/${language}/`, import.meta.url);
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const code = readFileSync(new URL(name, dir), "utf8").replaceAll("__SECRET_FILE__", canaries.filePath);
      const header = /^(?:\/\/|#)\s*expect:\s*(OK|FAIL|TIMEOUT|MEMORY_LIMIT|ANY)\s*$/m.exec(code);
      if (!header) throw new Error(`fixture ${language}/${name} has no "expect:" header`);
      return { name, code, expect: header[1] as Expectation };
    });
}

export function expectOutcome(result: ExecutionResult, expectation: Expectation): void {
  switch (expectation) {
    case "OK":
      expect(result.error, result.stderr).toBeUndefined();
      expect(result.exitCode).toBe(0);
      break;
    case "FAIL":
      expect(result.error?.code).toBe("NON_ZERO_EXIT");
      break;
    case "TIMEOUT":
    case "MEMORY_LIMIT":
      expect(result.error?.code).toBe(expectation);
      break;
    case "ANY":
      break;
  }
}

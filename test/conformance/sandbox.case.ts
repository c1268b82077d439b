/**
 * The one conformance suite every Sandbox implementation runs (like hono's common.case.test.ts for
 * its routers). A sandbox file calls `runConformance` with the languages it must support and any
 * skips, each with its reason. A language the sandbox should support but does not is a failure.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type Limits } from "../../src/sandbox/limits.js";
import type { ExecutionRequest, ExecutionResult, Language, Sandbox } from "../../src/sandbox/types.js";
import { listenOnLoopback } from "../support/loopback-listener.js";
import { bash } from "./cases/bash.js";
import { javascript } from "./cases/javascript.js";
import { python } from "./cases/python.js";
import { ruby } from "./cases/ruby.js";
import type { LanguageCases } from "./cases/types.js";

export const CASES: Readonly<Record<Language, LanguageCases>> = { javascript, ruby, python, bash };

export type CaseName =
  | "hello"
  | "stdin"
  | "args"
  | "env"
  | "files"
  | "exit"
  | "exception"
  | "timeout"
  | "memory"
  | "output"
  | "fresh"
  | "random"
  | "hostFile"
  | "hostEnv"
  | "network";

export interface ConformanceOptions {
  readonly name: string;
  readonly create: () => Promise<Sandbox>;
  readonly languages: readonly Language[];
  /** `language.case` or `*.case` -> why it cannot hold for this sandbox. */
  readonly skip?: Readonly<Record<string, string>>;
  /** Limits for the limit tests, where a sandbox needs other values (e.g. node's heap floor). */
  readonly memoryLimitBytes?: (language: Language) => number;
}

const CANARY_ENV = "INLINE_SANDBOX_CONFORMANCE_CANARY";
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

export function runConformance(options: ConformanceOptions): void {
  describe(`${options.name} sandbox conformance`, () => {
    let sandbox: Sandbox;
    const canary = `canary-${randomBytes(12).toString("hex")}`;
    const secretDir = mkdtempSync(join(tmpdir(), "conformance-"));
    const secretFile = join(secretDir, "host-secret.txt");

    beforeAll(async () => {
      process.env[CANARY_ENV] = canary;
      writeFileSync(secretFile, canary);
      sandbox = await options.create();
    });

    afterAll(async () => {
      delete process.env[CANARY_ENV];
      rmSync(secretDir, { recursive: true, force: true });
      await sandbox?.[Symbol.asyncDispose]();
    });

    const run = (
      language: Language,
      code: string,
      extra: Partial<ExecutionRequest> = {},
      limits: Partial<Limits> = {},
    ) =>
      sandbox.execute(
        { language, code, stdin: "", args: [], env: {}, files: [], ...extra },
        { limits: { ...DEFAULT_LIMITS, timeoutMs: 20_000, ...limits } },
      );

    const leaksNothing = (result: ExecutionResult) => {
      const everything = [result.stdout, result.stderr, ...result.files.map((f) => text(f.content))].join("\n");
      expect(everything).not.toContain(canary);
    };

    for (const language of options.languages) {
      const cases = CASES[language];
      const test = (name: CaseName, body: () => Promise<void>) => {
        const reason = options.skip?.[`${language}.${name}`] ?? options.skip?.[`*.${name}`];
        if (reason) it.skip(`${language}: ${name} (skipped: ${reason})`, body);
        else it(`${language}: ${name}`, body);
      };

      describe(language, () => {
        it(`${language}: is offered by the sandbox`, () => {
          expect(sandbox.availability()).toEqual({ available: true });
          expect(sandbox.languages().map((l) => l.language)).toContain(language);
        });

        test("hello", async () => {
          const result = await run(language, cases.hello);
          expect(result).toMatchObject({ exitCode: 0, stdout: "hello world\n", stderr: "" });
          expect(result.error).toBeUndefined();
          expect(result.runtime.version).not.toBe("");
        });

        test("stdin", async () => {
          const stdin = "line one\nline two with ünïcode\n";
          const result = await run(language, cases.echoStdin, { stdin });
          expect(result.stdout).toBe(stdin);
          expect(result.exitCode).toBe(0);
        });

        test("args", async () => {
          const result = await run(language, cases.printArgs, { args: ["a", "b c", "--flag"] });
          expect(result.stdout).toBe("a,b c,--flag\n");
        });

        test("env", async () => {
          const result = await run(language, cases.printEnv, { env: { GREETING: "hi there" } });
          expect(result.stdout).toBe("hi there\n");
        });

        test("files", async () => {
          const result = await run(language, cases.files, {
            files: [
              { path: "input.txt", content: utf8("hello files") },
              { path: "untouched.txt", content: utf8("same") },
            ],
          });
          expect(result.exitCode).toBe(0);
          const files = Object.fromEntries(result.files.map((f) => [f.path, text(f.content)]));
          expect(files).toEqual({ "output.txt": "HELLO FILES", "nested/deep/new.txt": "new" });
        });

        test("exit", async () => {
          const result = await run(language, cases.exit3);
          expect(result.exitCode).toBe(3);
          expect(result.error?.code).toBe("NON_ZERO_EXIT");
        });

        test("exception", async () => {
          const result = await run(language, cases.throwBoom);
          expect(result.exitCode).not.toBe(0);
          expect(result.exitCode).not.toBeNull();
          expect(result.stderr).toContain("boom");
          expect(result.error?.code).toBe("NON_ZERO_EXIT");
        });

        test("timeout", async () => {
          const started = Date.now();
          const result = await run(language, cases.infiniteLoop, {}, { timeoutMs: 1_000, killGraceMs: 200 });
          expect(result.error?.code).toBe("TIMEOUT");
          expect(result.exitCode).toBeNull();
          expect(Date.now() - started).toBeLessThan(10_000);
        });

        test("memory", async () => {
          const memoryLimitBytes = options.memoryLimitBytes?.(language) ?? 64 * 1024 * 1024;
          const result = await run(language, cases.memoryBomb, {}, { memoryLimitBytes, timeoutMs: 30_000 });
          expect(result.error?.code).toBe("MEMORY_LIMIT");
        });

        test("output", async () => {
          const result = await run(language, cases.outputFlood, {}, { maxOutputBytes: 4096 });
          expect(result.error?.code).toBe("OUTPUT_LIMIT");
          expect(result.truncated.stdout).toBe(true);
          expect(Buffer.byteLength(result.stdout)).toBe(4096);
        });

        test("fresh", async () => {
          const first = await run(language, cases.leakWrite);
          expect(first.exitCode).toBe(0);
          const second = await run(language, cases.leakCheck);
          expect(second.stdout).toBe("clean\n");
          const third = await run(language, cases.leakWrite);
          expect(third.stdout).not.toBe(first.stdout);
        });

        test("random", async () => {
          const outputs = await Promise.all([1, 2, 3].map(() => run(language, cases.printRandom)));
          for (const r of outputs) expect(r.stdout.trim()).not.toBe("");
          expect(new Set(outputs.map((r) => r.stdout)).size).toBe(3);
        });

        test("hostFile", async () => {
          for (const path of [secretFile, "/etc/shadow", "/proc/self/environ", "/proc/1/environ"]) {
            const result = await run(language, cases.readHostFile(path));
            leaksNothing(result);
            if (path === secretFile) expect(result.stdout).toBe("");
          }
        });

        test("hostEnv", async () => {
          const result = await run(language, cases.dumpEnv, { env: { GREETING: "hi" } });
          leaksNothing(result);
          expect(result.stdout).toContain("GREETING=hi");
          expect(result.stdout).not.toContain(`${CANARY_ENV}=`);
        });

        test("network", async () => {
          const server = await listenOnLoopback();
          try {
            const result = await run(language, cases.connect(server.port));
            await new Promise((resolve) => setTimeout(resolve, 200));
            expect(server.connections()).toBe(0);
            leaksNothing(result);
          } finally {
            server.close();
          }
        });
      });
    }
  });
}

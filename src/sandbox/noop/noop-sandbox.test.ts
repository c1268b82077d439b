import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { bashProcessRuntime } from "../../../runtimes/bash/process.js";
import { javascriptProcessRuntime } from "../../../runtimes/javascript/process.js";
import { pythonProcessRuntime } from "../../../runtimes/python/process.js";
import { rubyProcessRuntime } from "../../../runtimes/ruby/process.js";
import { DEFAULT_LIMITS, type Limits } from "../limits.js";
import { SNIPPETS } from "../process/process-sandbox.fixtures.js";
import { type ExecutionRequest, LANGUAGES, type Language } from "../types.js";
import { NoopSandbox } from "./noop-sandbox.js";

const warnings: { obj: object; msg: string }[] = [];
const sandbox = await NoopSandbox.create({
  runtimes: [javascriptProcessRuntime, pythonProcessRuntime, bashProcessRuntime, rubyProcessRuntime],
  logger: { warn: (obj, msg) => warnings.push({ obj, msg }) },
});
const limits: Limits = { ...DEFAULT_LIMITS, timeoutMs: 10_000, killGraceMs: 100 };

function request(language: Language, code: string, extra: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return { language, code, stdin: "", args: [], env: {}, files: [], ...extra };
}

afterAll(async () => {
  await sandbox[Symbol.asyncDispose]();
});

describe("NoopSandbox", () => {
  it("warns loudly when constructed", () => {
    expect(sandbox.kind).toBe("noop");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/UNSANDBOXED/);
  });

  it("finds every interpreter on this host", () => {
    expect(sandbox.availability()).toEqual({ available: true });
    expect(
      sandbox
        .languages()
        .map((l) => l.language)
        .sort(),
    ).toEqual([...LANGUAGES].sort());
  });

  describe.each(LANGUAGES.map((l) => [l] as const))("%s", (language) => {
    const s = SNIPPETS[language];
    const run = (code: string, extra: Partial<ExecutionRequest> = {}, over: Partial<Limits> = {}) =>
      sandbox.execute(request(language, code, extra), { limits: { ...limits, ...over } });

    it("runs hello world, stdin and args in a temp dir (not /workspace)", async () => {
      expect((await run(s.hello)).stdout).toBe("hello world\n");
      expect((await run(s.echoStdin, { stdin: "in\n" })).stdout).toBe("in\n");
      expect((await run(s.printArgs, { args: ["a", "b"] })).stdout).toBe("a,b\n");
      const pwd = await run(s.printEnv, { env: { GREETING: "x" } });
      expect(pwd.stdout).toBe("x\n");
    });

    it("never passes the server's environment", async () => {
      const name = `INLINE_SANDBOX_SECRET_${randomBytes(4).toString("hex").toUpperCase()}`;
      process.env[name] = "v";
      try {
        const r = await run(s.dumpEnv);
        expect(r.stdout).toContain("HOME=/tmp/inline-sandbox-ws-");
        expect(r.stdout).not.toContain(name);
      } finally {
        delete process.env[name];
      }
    });

    it("returns changed files and reports exit 3", async () => {
      const r = await run(s.files, { files: [{ path: "input.txt", content: new TextEncoder().encode("abc\n") }] });
      expect(r.files.map((f) => f.path)).toEqual(["nested/deep/new.txt", "output.txt"]);
      const e = await run(s.exit3);
      expect(e.exitCode).toBe(3);
      expect(e.error?.code).toBe("NON_ZERO_EXIT");
    });

    it("kills the process group at the deadline and caps output", async () => {
      const marker = `${Math.floor(Math.random() * 1e6) + 1000}.75`;
      const r = await run(s.spawnAndSpin(marker), {}, { timeoutMs: 800 });
      expect(r.error?.code).toBe("TIMEOUT");
      await new Promise((resolve) => setTimeout(resolve, 100));
      const left = readdirSync("/proc").filter((p) => {
        try {
          return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, "utf8").includes(marker);
        } catch {
          return false;
        }
      });
      expect(left).toEqual([]);
      const flood = await run(s.outputFlood, {}, { maxOutputBytes: 50_000 });
      expect(flood.error?.code).toBe("OUTPUT_LIMIT");
      expect(Buffer.byteLength(flood.stdout)).toBe(50_000);
    });
  });
});

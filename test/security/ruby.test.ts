import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.js";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { expectNoLeak, expectOutcome, type HostCanaries, loadFixtures, plantCanaries } from "./oracle.js";

const canaries: HostCanaries = plantCanaries();
let sandbox: WasmSandbox;

beforeAll(async () => {
  sandbox = await WasmSandbox.create({ logger: silentLogger(), workers: 2, languages: ["ruby"] });
});
afterAll(async () => {
  await sandbox?.[Symbol.asyncDispose]();
  canaries.cleanup();
});

const limits = { ...DEFAULT_LIMITS, timeoutMs: 3_000, memoryLimitBytes: 160 * 1024 * 1024 };
const run = (code: string) =>
  sandbox.execute({ language: "ruby", code, stdin: "", args: [], env: { ONLY: "this" }, files: [] }, { limits });

describe("ruby on wasm: escape attempts", () => {
  for (const fixture of loadFixtures("ruby", canaries)) {
    it(fixture.name, async () => {
      const result = await run(fixture.code);
      expectOutcome(result, fixture.expect);
      expectNoLeak(result, canaries);
    });
  }

  it("stops the run at the first JS bridge call", async () => {
    const result = await run('require "js"\nputs JS.global.inspect\nputs "after"');
    expect(result.error?.code).toBe("SANDBOX_VIOLATION");
    expect(result.stdout).not.toContain("after");
  });

  it("shows only the virtual tree and the variables passed", async () => {
    const result = await run(
      'puts Dir.entries("/").sort.reject { |e| e.start_with?(".") }.join(","); puts ENV.to_h.inspect',
    );
    expect(result.stdout).toBe('tmp,workspace\n{"ONLY" => "this"}\n');
  });

  it("runs no command", async () => {
    const result = await run('system("echo RAN"); puts `echo RAN` rescue puts "no"');
    expect(result.stdout).not.toContain("RAN");
  });

  it("has one way out, the host call, and without an effect handler it refuses everything", async () => {
    const result = await run(
      [
        "begin",
        "  Sandbox::HTTP.get('http://127.0.0.1:1/')",
        "  puts 'ESCAPED'",
        "rescue Sandbox::HTTP::Error => e",
        '  puts "binding #{e.code}"',
        "end",
        "File.open('/dev/sandbox/http', 'r+b') do |f|",
        '  f.write(%({"method":"GET","url":"http://169.254.169.254/","headers":[],"redirect":"follow","bodyLength":null}\\n))',
        "  puts \"raw #{f.read.include?('EGRESS_DENIED')}\"",
        "end",
      ].join("\n"),
    );
    expect(result.stdout).toBe("binding EGRESS_DENIED\nraw true\n");
  });
});

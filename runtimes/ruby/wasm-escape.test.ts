/**
 * Escape attempts against the Ruby runtime: the JS bridge of stock ruby.wasm, the host environment,
 * the host filesystem, processes and sockets. A secret is planted in the host's environment and
 * filesystem; no output may ever contain it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runner } from "../../src/sandbox/wasm/runtime.js";
import { ruby as cases } from "../../test/conformance/cases/ruby.js";
import { sealedRubyImports } from "./ruby-abi.js";
import { isRubyAssets, rubyWasmRuntime } from "./wasm.js";
import { type RunResult, runRuby } from "./wasm-test-support.js";

const SECRET = `host-secret-${Math.random().toString(36).slice(2)}`;
const secretDir = mkdtempSync(join(tmpdir(), "ruby-escape-"));
const secretFile = join(secretDir, "secret.txt");
let runner: Runner;
let module: WebAssembly.Module;

beforeAll(async () => {
  process.env.SANDBOX_TEST_SECRET = SECRET;
  writeFileSync(secretFile, SECRET);
  const assets = await rubyWasmRuntime.load();
  if (!isRubyAssets(assets)) throw new Error("unexpected assets");
  module = assets.module;
  runner = await rubyWasmRuntime.createRunner(assets);
}, 120_000);

afterAll(() => {
  delete process.env.SANDBOX_TEST_SECRET;
  rmSync(secretDir, { recursive: true, force: true });
});

function expectNoLeak(r: RunResult): void {
  expect(r.stdout).not.toContain(SECRET);
  expect(r.stderr).not.toContain(SECRET);
  expect(r.stdout + r.stderr).not.toMatch(/\bPATH=|\bHOME=|node_modules/);
}

describe("the JS bridge is sealed", () => {
  it("stubs every rb-js-abi-host and unknown import with a SANDBOX_VIOLATION trap", () => {
    const sealed = sealedRubyImports(module, { module: "env", name: "memory" });
    const jsHost = sealed["rb-js-abi-host"] ?? {};
    const names = WebAssembly.Module.imports(module)
      .filter((i) => i.module === "rb-js-abi-host")
      .map((i) => i.name);
    expect(names.length).toBeGreaterThan(15);
    expect(Object.keys(jsHost).sort()).toEqual([...names].sort());
    for (const name of names) expect(() => jsHost[name]?.(0, 0, 0)).toThrow(/SANDBOX_VIOLATION|does not provide/);
    expect(() => sealed.canonical_abi?.["resource_drop_js-abi-value"]?.(1)).toThrow(/does not provide/);
    const modules = new Set(WebAssembly.Module.imports(module).map((i) => i.module));
    expect([...modules].sort()).toEqual(["canonical_abi", "env", "rb-js-abi-host", "wasi_snapshot_preview1"]);
  });

  it.each([
    ["JS.global", 'require "js"\np JS.global[:process][:env]'],
    ["JS.eval process.env", 'require "js"\np JS.eval("return process.env")'],
    [
      "JS.eval child_process",
      "require \"js\"\np JS.eval(\"return require('child_process').execSync('id').toString()\")",
    ],
    ["js.so directly", 'require "js.so"\np JS.global'],
  ])("%s cannot reach the host", async (_name, code) => {
    const r = await runRuby(runner, code);
    expect(r.error?.code).toBe("SANDBOX_VIOLATION");
    expect(r.exitCode).toBeNull();
    expectNoLeak(r);
  });

  it("rescuing inside Ruby does not help: the trap is not a Ruby exception", async () => {
    const r = await runRuby(
      runner,
      'require "js"\nbegin\n  JS.global\nrescue Exception\n  puts "rescued"\nend\nputs "after"',
    );
    expect(r.error?.code).toBe("SANDBOX_VIOLATION");
    expect(r.stdout).toBe("");
  });
});

describe("no host environment, filesystem, processes or network", () => {
  it("ENV holds only the request's variables", async () => {
    const r = await runRuby(runner, cases.dumpEnv, { env: { ONLY: "this" } });
    expect(r.stdout).toBe("ONLY=this\n");
    expectNoLeak(r);
  });

  it.each(["/etc/passwd", secretFile, "/proc/self/environ", "/workspace/../../etc/passwd"])(
    "cannot read %s",
    async (path) => {
      const r = await runRuby(runner, cases.readHostFile(path));
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/No such file|Capabilities insufficient|Read-only|Operation not permitted|Invalid/i);
      expectNoLeak(r);
    },
  );

  it("sees only the virtual tree", async () => {
    const r = await runRuby(
      runner,
      'p Dir.entries("/").sort\np Dir.exist?("/etc"), Dir.exist?("/home"), Dir.exist?(' +
        JSON.stringify(secretDir) +
        ")",
    );
    expect(r.stdout).toBe('[".", "..", "tmp", "workspace"]\nfalse\nfalse\nfalse\n');
  });

  it("cannot create anything outside /workspace and /tmp", async () => {
    const r = await runRuby(
      runner,
      'begin\n  File.write("/evil", "x")\nrescue SystemCallError => e\n  puts e.class\nend',
    );
    expect(r.stdout).toBe("Errno::EROFS\n");
  });

  it("cannot start processes", async () => {
    const code = [
      'tries = { system: -> { system("id") }, backtick: -> { `id` }, spawn: -> { Process.spawn("id") },',
      '  popen: -> { IO.popen("id").read }, fork: -> { fork { } } }',
      "tries.each do |name, attempt|",
      "  begin",
      '    puts "#{name}: #{attempt.call.inspect}"',
      "  rescue Exception => e",
      '    puts "#{name}: #{e.class}"',
      "  end",
      "end",
    ].join("\n");
    const r = await runRuby(runner, code);
    // WASI has no process imports, so nothing can start. ruby.wasm's stubs are odd (`system` even
    // answers true) but no command ever runs: `id` never prints.
    expect(r.error).toBeUndefined();
    const lines = r.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(":")[0])).toEqual(["system", "backtick", "spawn", "popen", "fork"]);
    for (const line of lines)
      expect(line).toMatch(/: (NotImplementedError|ArgumentError|Errno::\w+|nil|false|true|"")$/);
    expect(r.stdout).not.toMatch(/uid=/);
    expectNoLeak(r);
  });

  it("has no sockets", async () => {
    const r = await runRuby(runner, cases.connect(9));
    expect(r.stderr).toMatch(/cannot load such file -- socket/);
    expect(r.stdout).toBe("");
  });
});

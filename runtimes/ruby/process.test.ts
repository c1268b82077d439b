import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ruby as cases } from "../../test/conformance/cases/ruby.js";
import { rubyProcessRuntime } from "./process.js";

const hasRuby = spawnSync("ruby", ["--version"]).status === 0;
/** Every snippet's directory lives under this one, removed once the file's tests are done. */
const root = mkdtempSync(join(tmpdir(), "ruby-cases-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("rubyProcessRuntime", () => {
  it("runs the script with -EUTF-8 and ends switches before it", () => {
    expect(rubyProcessRuntime.binary).toBe("ruby");
    expect(rubyProcessRuntime.argv("/workspace/main.rb", ["-v", "x"])).toEqual([
      "-EUTF-8",
      "--",
      "/workspace/main.rb",
      "-v",
      "x",
    ]);
  });

  it("parses `ruby --version`", () => {
    expect(rubyProcessRuntime.parseVersion("ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) [x86_64-linux-gnu]\n")).toBe(
      "3.1.2",
    );
    expect(() => rubyProcessRuntime.parseVersion("bash 5")).toThrow();
  });
});

/** The conformance snippets on the host's real ruby (no sandbox: a plain child with an empty env). */
describe.skipIf(!hasRuby)("conformance snippets on the real ruby binary (skipped when ruby is not installed)", () => {
  function run(code: string, opts: { args?: string[]; env?: Record<string, string>; stdin?: string } = {}) {
    const dir = mkdtempSync(join(root, "case-"));
    const script = join(dir, "main.rb");
    writeFileSync(script, code);
    writeFileSync(join(dir, "input.txt"), "héllo");
    writeFileSync(join(dir, "untouched.txt"), "same");
    const r = spawnSync("ruby", rubyProcessRuntime.argv(script, opts.args ?? []), {
      cwd: dir,
      env: opts.env ?? {},
      input: opts.stdin ?? "",
      encoding: "utf8",
      timeout: 10_000,
    });
    return { dir, status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it("reports its version", () => {
    const out = spawnSync("ruby", [...rubyProcessRuntime.versionArgs], { encoding: "utf8" }).stdout;
    expect(rubyProcessRuntime.parseVersion(out)).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("hello, stdin, args, env, exit, exception", () => {
    expect(run(cases.hello).stdout).toBe("hello world\n");
    expect(run(cases.echoStdin, { stdin: "líne\n" }).stdout).toBe("líne\n");
    expect(run(cases.printArgs, { args: ["a", "b c", "-v"] }).stdout).toBe("a,b c,-v\n");
    expect(run(cases.printEnv, { env: { GREETING: "hi" } }).stdout).toBe("hi\n");
    expect(run(cases.dumpEnv, { env: { ONLY: "this" } }).stdout).toBe("ONLY=this\n");
    expect(run(cases.exit3)).toMatchObject({ status: 3, stdout: "", stderr: "" });
    const boom = run(cases.throwBoom);
    expect(boom.status).toBe(1);
    expect(boom.stderr).toMatch(/main\.rb:1:in .<main>.: boom \(RuntimeError\)/);
  });

  it("files", () => {
    const r = run(cases.files);
    expect(r.status).toBe(0);
    expect(readFileSync(join(r.dir, "output.txt"), "utf8")).toBe("HÉLLO");
    expect(readFileSync(join(r.dir, "nested/deep/new.txt"), "utf8")).toBe("new");
  });

  it("leak and random snippets run", () => {
    // Unsandboxed, leakWrite's /tmp/leak.txt is the host's: removed again unless it was there before.
    const hostLeak = "/tmp/leak.txt";
    const existed = existsSync(hostLeak);
    const r = run(cases.leakWrite);
    if (!existed) rmSync(hostLeak, { force: true });
    expect(r.status).toBe(0);
    expect(Number(r.stdout)).toBeGreaterThanOrEqual(0);
    expect(run(cases.printRandom).stdout).toMatch(/^0\.\d+\n$/);
    expect(run(cases.readHostFile("/nonexistent/x")).stderr).toMatch(/No such file/);
    expect(run(cases.connect(1)).stderr).toMatch(/refused|Errno/i);
  });
});

/**
 * Security invariants of the bash WasmRuntime: no host file, host env or network is reachable, and
 * no state survives from one execution into the next, also after an interrupt or a limit hit.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback } from "../../test/support/loopback-listener.js";
import { REHEARSAL_SCRIPT } from "./bash-instance.js";
import { createHarness, type Harness, type HarnessResult } from "./runner-harness.js";

const CANARY_ENV = "BASH_WASM_TEST_CANARY";
const canary = `canary-${randomBytes(12).toString("hex")}`;
const secretDir = mkdtempSync(join(tmpdir(), "bash-isolation-"));
const secretFile = join(secretDir, "secret.txt");

let harness: Harness;

beforeAll(async () => {
  process.env[CANARY_ENV] = canary;
  writeFileSync(secretFile, canary);
  harness = await createHarness();
});

afterAll(async () => {
  delete process.env[CANARY_ENV];
  rmSync(secretDir, { recursive: true, force: true });
  await harness?.close();
});

function everything(r: HarnessResult): string {
  return [r.stdout, r.stderr, ...r.outcome.files.map((f) => new TextDecoder().decode(f.content))].join("\n");
}

describe("no host access", () => {
  it("cannot read host files or /proc", async () => {
    const r = await harness.run(
      [
        secretFile,
        "/etc/passwd",
        "/etc/hostname",
        "/proc/self/environ",
        "/proc/1/cmdline",
        "/proc/self/maps",
        "/work/main/package.json",
        "/root/.bashrc",
      ]
        .map((p) => `cat -- '${p}'`)
        .join("\n"),
    );
    expect(everything(r)).not.toContain(canary);
    expect(r.stdout).not.toMatch(/root:|inline-sandbox|PATH=/);
    expect(r.stderr).toMatch(/No such file or directory/);
  });

  it("sees only just-bash's own root layout", async () => {
    const r = await harness.run("ls /; ls /proc; ls /workspace");
    expect(r.stdout.split("\n").slice(0, 5)).toEqual(["bin", "dev", "proc", "usr", "workspace"]);
    expect(r.stdout).not.toMatch(/etc|home|root|var|work\b/);
  });

  it("does not see the host's environment", async () => {
    const r = await harness.run("env; set; declare -p; printenv", { request: { env: { GREETING: "hi" } } });
    expect(everything(r)).not.toContain(canary);
    expect(r.stdout).not.toContain(CANARY_ENV);
    expect(r.stdout).toContain("GREETING=hi");
    expect(r.stdout).not.toContain(process.env.PATH ?? "unlikely");
  });

  it("cannot connect to the network through /dev/tcp or /dev/udp", async () => {
    const server = await listenOnLoopback();
    try {
      const r = await harness.run(
        [
          `printf x > /dev/tcp/127.0.0.1/${server.port}`,
          "echo status=$?",
          `exec 3<>/dev/tcp/127.0.0.1/${server.port} && printf x >&3`,
          `printf x > /dev/udp/127.0.0.1/${server.port}`,
          `cat < /dev/tcp/127.0.0.1/${server.port}`,
        ].join("\n"),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(server.connections()).toBe(0);
      expect(r.stdout).toContain("status=1");
      expect(r.outcome.files.map((f) => f.path)).toEqual(["main.sh"]);
      const check = await harness.run("ls -R /dev");
      expect(check.stdout).not.toMatch(/tcp|udp/);
    } finally {
      server.close();
    }
  });
});

const LEAVE_TRACES = [
  "export LEAK_VAR=1",
  "LEAK_LOCAL=2",
  "leak_fn() { echo leaked; }",
  "alias ll='echo leaked'",
  "cd() { echo leaked; }",
  "set -o noglob",
  "shopt -s nullglob",
  "echo leak > leak.txt",
  "mkdir -p /tmp && echo leak > /tmp/leak.txt",
  "echo leak > /usr/leak.txt",
  "builtin cd /tmp",
].join("\n");

const CHECK_TRACES = [
  'traces=""',
  '[ -n "${LEAK_VAR+x}${LEAK_LOCAL+x}" ] && traces="$traces var"',
  'declare -F leak_fn >/dev/null && traces="$traces fn"',
  'alias ll >/dev/null 2>&1 && traces="$traces alias"',
  '[ "$(type -t cd)" = builtin ] || traces="$traces cd"',
  '[[ $- == *f* ]] && traces="$traces noglob"',
  'shopt -q nullglob && traces="$traces nullglob"',
  '[ -e leak.txt ] && traces="$traces file"',
  '[ -e /tmp/leak.txt ] && traces="$traces tmp"',
  '[ -e /usr/leak.txt ] && traces="$traces usr"',
  '[ "$PWD" = /workspace ] || traces="$traces cwd"',
  'echo "traces:$traces"',
].join("\n");

describe("fresh state every execution", () => {
  it("leaves no variable, function, alias, option, file or cwd behind", async () => {
    const first = await harness.run(LEAVE_TRACES);
    expect(first.outcome.error).toBeUndefined();
    const check = await harness.run(CHECK_TRACES);
    expect(check.stdout).toBe("traces:\n");
  });

  it("leaves nothing behind after an interrupt", async () => {
    const interrupted = await harness.run(`${LEAVE_TRACES}\nwhile true; do :; done`, { limits: { timeoutMs: 300 } });
    expect(interrupted.outcome.error?.code).toBe("TIMEOUT");
    const check = await harness.run(CHECK_TRACES);
    expect(check.stdout).toBe("traces:\n");
  });

  it("leaves nothing behind after memory and output limit hits", async () => {
    const memory = await harness.run(`${LEAVE_TRACES}\ns=x; while true; do s="$s$s"; done`, {
      limits: { memoryLimitBytes: 64 * 1024 * 1024 },
    });
    expect(memory.outcome.error?.code).toBe("MEMORY_LIMIT");
    expect((await harness.run(CHECK_TRACES)).stdout).toBe("traces:\n");
    const output = await harness.run(
      `${LEAVE_TRACES}\nwhile true; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done`,
      { limits: { maxOutputBytes: 2048 } },
    );
    expect(output.outcome.error?.code).toBe("OUTPUT_LIMIT");
    expect((await harness.run(CHECK_TRACES)).stdout).toBe("traces:\n");
  });

  it("gives every execution its own $RANDOM stream, also right after an interrupt", async () => {
    const outputs: string[] = [];
    for (let i = 0; i < 6; i++) {
      if (i === 3) await harness.run("while true; do :; done", { limits: { timeoutMs: 200 } });
      outputs.push((await harness.run("echo $RANDOM $RANDOM $RANDOM")).stdout);
    }
    expect(new Set(outputs).size).toBe(outputs.length);
    for (const line of outputs) expect(line).toMatch(/^\d+ \d+ \d+\n$/);
  });

  it("starts from a seed whose boot rehearsal left no file and no cached result behind", async () => {
    // The rehearsal itself is an ordinary script: silent, status 0.
    const rehearsal = await harness.run(REHEARSAL_SCRIPT);
    expect([rehearsal.outcome.exitCode, rehearsal.stdout, rehearsal.stderr]).toEqual([0, "", ""]);
    const r = await harness.run(
      [
        "ls -A /workspace; ls -A /tmp",
        "echo '{\"a\":2}' | jq .a",
        'printf "d\\nc\\n" | sort | head -n 1',
        "echo zz | sed s/z/Y/ | tr a-z A-Z",
        "seq 2 | xargs echo",
      ].join("\n"),
    );
    expect(r.stdout).toBe("main.sh\n2\nc\nYZ\n1 2\n");
    expect(r.outcome.files.map((f) => f.path)).toEqual(["main.sh"]);
  });

  it("does not carry input files of one execution into the next", async () => {
    await harness.run("true", {
      request: { files: [{ path: "private.txt", content: new TextEncoder().encode(canary) }] },
    });
    const r = await harness.run("ls -A; cat private.txt");
    expect(r.stdout).toBe("main.sh\n");
    expect(everything(r)).not.toContain(canary);
  });
});

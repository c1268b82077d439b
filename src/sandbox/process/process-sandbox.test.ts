/**
 * Real runs of node, python3, ruby and bash under bubblewrap. Skipped (with the reason) only when
 * bwrap cannot run at all on this machine.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bashProcessRuntime } from "../../../runtimes/bash/process.js";
import { javascriptProcessRuntime } from "../../../runtimes/javascript/process.js";
import { pythonProcessRuntime } from "../../../runtimes/python/process.js";
import { rubyProcessRuntime } from "../../../runtimes/ruby/process.js";
import { isServiceError } from "../../errors.js";
import { DEFAULT_LIMITS, type Limits } from "../limits.js";
import { type ExecutionRequest, LANGUAGES, type Language } from "../types.js";
import { DEFAULT_HOST_UID_BASE, DEFAULT_HOST_UID_POOL_SIZE } from "./host-identity.js";
import { SNIPPETS } from "./process-sandbox.fixtures.js";
import { ProcessSandbox } from "./process-sandbox.js";

const MiB = 1024 * 1024;
const limits: Limits = { ...DEFAULT_LIMITS, timeoutMs: 10_000, killGraceMs: 200, maxFilesystemBytes: 16 * MiB };
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

const sandbox = await ProcessSandbox.create({
  runtimes: [javascriptProcessRuntime, pythonProcessRuntime, bashProcessRuntime, rubyProcessRuntime],
});
const availability = sandbox.availability();
const skipReason = availability.available ? "" : ` (skipped: ${availability.reason})`;

function request(language: Language, code: string, extra: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return { language, code, stdin: "", args: [], env: {}, files: [], ...extra };
}

interface HostProcess {
  readonly pid: number;
  readonly uid: number;
  readonly cmdline: string;
}

function hostProcesses(): HostProcess[] {
  const out: HostProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      out.push({
        pid: Number(entry),
        uid,
        cmdline: readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " "),
      });
    } catch {
      // gone
    }
  }
  return out;
}

const guestProcesses = () =>
  hostProcesses().filter(
    (p) => p.uid >= DEFAULT_HOST_UID_BASE && p.uid < DEFAULT_HOST_UID_BASE + DEFAULT_HOST_UID_POOL_SIZE,
  );

afterAll(async () => {
  await sandbox[Symbol.asyncDispose]();
});

describe(`ProcessSandbox availability${skipReason}`, () => {
  it("lists only languages whose interpreter runs inside the sandbox, with versions", () => {
    expect(sandbox.kind).toBe("process");
    if (!availability.available) return;
    const names = sandbox
      .languages()
      .map((l) => l.language)
      .sort();
    expect(names).toEqual([...LANGUAGES].sort());
    for (const l of sandbox.languages()) expect(l.runtime.version).toMatch(/^\d+\.\d+/);
  });

  it("is unavailable, lists nothing and refuses to run when bwrap is missing", async () => {
    const missing = await ProcessSandbox.create({ runtimes: [pythonProcessRuntime], searchPath: ["/nonexistent"] });
    expect(missing.availability()).toEqual({ available: false, reason: "bubblewrap (bwrap) is not installed" });
    expect(missing.languages()).toEqual([]);
    const error = await missing.execute(request("python", "print(1)"), { limits }).catch((e: unknown) => e);
    expect(isServiceError(error) && error.code).toBe("SANDBOX_UNAVAILABLE");
  });

  it("started, reports its languages loading until the probes ended, and an execution starts and waits for them", async () => {
    // Probes deferred until a promise that never settles: only the execution starts them.
    const started = ProcessSandbox.start(
      { runtimes: [pythonProcessRuntime, rubyProcessRuntime] },
      new Promise(() => {}),
    );
    try {
      expect(started.languageStates()).toEqual([
        { language: "python", state: "loading" },
        { language: "ruby", state: "loading" },
      ]);
      expect(started.languages()).toEqual([]);
      // Sent before the probes ended: runs once they did (or is refused like on a sandbox that was created).
      const result = started.execute(request("python", "print(6 * 7)"), { limits }).catch((e: unknown) => e);
      await started.loaded();
      const states = started.languageStates();
      if (!availability.available) {
        expect(states.every((s) => s.state === "unavailable")).toBe(true);
        const refused = await result;
        expect(isServiceError(refused) && refused.code).toBe("SANDBOX_UNAVAILABLE");
        return;
      }
      expect(states.map((s) => [s.language, s.state])).toEqual([
        ["python", "available"],
        ["ruby", "available"],
      ]);
      expect(((await result) as { stdout: string }).stdout).toBe("42\n");
    } finally {
      await started[Symbol.asyncDispose]();
    }
  });
});

describe.skipIf(!availability.available)(`ProcessSandbox real runs${skipReason}`, () => {
  let hostSecretPath = "";
  const hostSecret = randomBytes(16).toString("hex");
  beforeAll(async () => {
    hostSecretPath = join(tmpdir(), `inline-sandbox-host-secret-${hostSecret}`);
    await writeFile(hostSecretPath, hostSecret, { mode: 0o644 });
  });
  afterAll(async () => {
    await rm(hostSecretPath, { force: true });
  });

  describe.each(LANGUAGES.map((l) => [l] as const))("%s", (language) => {
    const s = SNIPPETS[language];
    const run = (code: string, extra: Partial<ExecutionRequest> = {}, over: Partial<Limits> = {}) =>
      sandbox.execute(request(language, code, extra), { limits: { ...limits, ...over } });

    it("prints hello world", async () => {
      const r = await run(s.hello);
      expect(r.stdout).toBe("hello world\n");
      expect(r.exitCode).toBe(0);
      expect(r.error).toBeUndefined();
      expect(r.runtime.version).toMatch(/^\d+\.\d+/);
    });

    it("reads stdin, args and the declared env", async () => {
      const stdin = "line one\nzwei – drei ✓\n";
      expect((await run(s.echoStdin, { stdin })).stdout).toBe(stdin);
      expect((await run(s.printArgs, { args: ["a", "b c", "-x"] })).stdout).toBe("a,b c,-x\n");
      expect((await run(s.printEnv, { env: { GREETING: "hej" } })).stdout).toBe("hej\n");
    });

    it("reads input files and returns only created or changed files, never symlinks", async () => {
      const r = await run(s.files, {
        files: [
          { path: "input.txt", content: enc("abc\n") },
          { path: "untouched.txt", content: enc("same") },
        ],
      });
      expect(r.error).toBeUndefined();
      expect(r.files.map((f) => f.path)).toEqual(["nested/deep/new.txt", "output.txt"]);
      expect(dec(r.files[1]?.content)).toBe("ABC\n");
      expect(dec(r.files[0]?.content)).toBe("new");
    });

    it("reports exit status 3 as NON_ZERO_EXIT", async () => {
      const r = await run(s.exit3);
      expect(r.exitCode).toBe(3);
      expect(r.error?.code).toBe("NON_ZERO_EXIT");
    });

    it("runs as a non-root uid", async () => {
      const r = await run(s.uid);
      expect(r.stdout.trim()).toBe("1000");
    });

    it("never sees the server's environment", async () => {
      const name = `INLINE_SANDBOX_SECRET_${randomBytes(4).toString("hex").toUpperCase()}`;
      const value = randomBytes(12).toString("hex");
      process.env[name] = value;
      try {
        const r = await run(s.dumpEnv, { env: { GREETING: "x" } });
        expect(r.stdout).toContain("GREETING=x");
        expect(r.stdout + r.stderr).not.toContain(name);
        expect(r.stdout + r.stderr).not.toContain(value);
        expect(r.stdout).not.toMatch(/^(USER|LOGNAME|NODE_ENV|VITEST\w*)=/m);
        expect(r.stdout).not.toContain("/work/main");
      } finally {
        delete process.env[name];
      }
    });

    it("cannot read host files: /etc/shadow, /root, /work/main, a world-readable /tmp file", async () => {
      const cases: [string, string][] = [
        ["/etc/shadow", "root:"],
        ["/root/.bashrc", "PS1"],
        ["/work/main/package.json", "inline-sandbox"],
        [hostSecretPath, hostSecret],
      ];
      for (const [path, marker] of cases) {
        const r = await run(s.readHostFile(path));
        expect(r.stdout).not.toContain(marker);
        expect(r.stderr.length).toBeGreaterThan(0);
      }
    });

    it("has no network: a host server on 127.0.0.1 never sees a connection", async () => {
      let connections = 0;
      const server = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const r = await run(s.connect(port));
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(r.stdout).not.toContain("connected");
        expect(connections).toBe(0);
      } finally {
        server.close();
      }
    });

    it("kills the guest, its child and grandchild at the deadline", async () => {
      const marker = `${Math.floor(Math.random() * 1e6) + 1000}.5`;
      const pending = run(s.spawnAndSpin(marker), {}, { timeoutMs: 1_500 });
      let seen: HostProcess[] = [];
      for (let i = 0; i < 100 && seen.length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        seen = hostProcesses().filter((p) => p.cmdline.includes(marker));
      }
      expect(seen.length).toBeGreaterThanOrEqual(2);
      for (const p of seen) expect(p.uid).toBeGreaterThanOrEqual(DEFAULT_HOST_UID_BASE);
      const r = await pending;
      expect(r.error?.code).toBe("TIMEOUT");
      expect(r.exitCode).toBeNull();
      expect(r.durationMs).toBeLessThan(1_500 + 2_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(hostProcesses().filter((p) => p.cmdline.includes(marker))).toEqual([]);
      expect(guestProcesses()).toEqual([]);
    });

    it("caps a flood of output at exactly maxOutputBytes", async () => {
      const r = await run(s.outputFlood, {}, { maxOutputBytes: 100_000 });
      expect(r.error?.code).toBe("OUTPUT_LIMIT");
      expect(r.truncated.stdout).toBe(true);
      expect(Buffer.byteLength(r.stdout)).toBe(100_000);
      expect(r.stdout).toMatch(/^x+$/);
      expect(r.exitCode).toBeNull();
    });

    it("stops a memory bomb with MEMORY_LIMIT", async () => {
      const r = await run(s.memoryBomb, {}, { memoryLimitBytes: 128 * MiB, timeoutMs: 20_000 });
      expect(r.error?.code).toBe("MEMORY_LIMIT");
    });

    it("contains a fork bomb (RLIMIT_NPROC holds) and leaves no process behind", async () => {
      if (language === "bash") {
        // bash retries a failed fork with back-off, so the classic bomb runs into the deadline instead.
        const r = await run(":(){ :|:& };:\nsleep 10", {}, { timeoutMs: 2_000 });
        expect(r.error?.code).toBe("TIMEOUT");
        expect(r.stderr).toContain("Resource temporarily unavailable");
      } else {
        // Ruby retries a refused fork with sleeps before raising EAGAIN: ~9.9 s here, so a 10 s limit
        // sometimes killed it before it printed (the run then lasts until the limit, as before).
        const r = await run(s.forkUntilRefused, {}, { timeoutMs: language === "ruby" ? 20_000 : 10_000 });
        const refused = /refused (\d+)/.exec(r.stdout);
        expect(refused, r.stdout + r.stderr).not.toBeNull();
        expect(Number(refused?.[1])).toBeLessThan(64);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(guestProcesses()).toEqual([]);
    });
  });

  describe("python specifics", () => {
    const run = (code: string, over: Partial<Limits> = {}, signal?: AbortSignal) =>
      sandbox.execute(request("python", code), { limits: { ...limits, ...over }, ...(signal ? { signal } : {}) });

    it("sees only its interpreter and the allowlisted tools", async () => {
      const r = await run("import os\nprint(' '.join(sorted(os.listdir('/usr/bin'))))\nprint(sorted(os.listdir('/')))");
      const bins = (r.stdout.split("\n")[0] ?? "").split(" ");
      expect(bins).toContain("python3");
      expect(bins).toContain("cat");
      for (const hidden of ["node", "ruby", "bash", "bwrap", "prlimit", "su", "sudo", "apt-get", "curl"])
        expect(bins).not.toContain(hidden);
      for (const hidden of ["root", "home", "work", "var", "opt", "srv"]) expect(r.stdout).not.toContain(`'${hidden}'`);
    });

    it("starts every execution fresh: /tmp and the workspace do not carry over", async () => {
      await run("open('/tmp/leak.txt', 'w').write('x')\nopen('leak.txt', 'w').write('x')");
      const r = await run("import os\nprint(os.path.exists('/tmp/leak.txt'), os.path.exists('leak.txt'))");
      expect(r.stdout).toBe("False False\n");
    });

    it("cannot write outside /workspace and /tmp", async () => {
      const r = await run(
        "for p in ['/x', '/usr/bin/x', '/etc/x', '/dev/x']:\n    try:\n        open(p, 'w')\n        print('wrote', p)\n    except OSError as e:\n        print('denied', p)",
      );
      expect(r.stdout).not.toContain("wrote");
      expect(r.stdout.match(/denied/g)?.length).toBe(4);
    });

    it("stops a single file larger than the quota (RLIMIT_FSIZE) with FILESYSTEM_LIMIT", async () => {
      const r = await run("open('big', 'wb').write(b'x' * (2 * 1024 * 1024))", { maxFilesystemBytes: 1 * MiB });
      expect(r.error?.code).toBe("FILESYSTEM_LIMIT");
      expect(r.files).toEqual([]);
    });

    it("stops many files whose total exceeds the quota with FILESYSTEM_LIMIT", async () => {
      const r = await run(
        "import time\nfor i in range(64):\n    open(f'f{i}', 'wb').write(b'x' * 512 * 1024)\ntime.sleep(5)",
        { maxFilesystemBytes: 4 * MiB },
      );
      expect(r.error?.code).toBe("FILESYSTEM_LIMIT");
      expect(r.durationMs).toBeLessThan(4_000);
    });

    it("runs concurrent executions side by side", async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => run(`import time\ntime.sleep(0.2)\nprint(${i})`)),
      );
      expect(results.map((r) => r.stdout)).toEqual(["0\n", "1\n", "2\n", "3\n", "4\n", "5\n"]);
      expect(guestProcesses()).toEqual([]);
    });

    it("stops when the request is aborted", async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const r = await run("while True: pass", {}, controller.signal);
      expect(r.error?.code).toBe("TIMEOUT");
      expect(r.error?.message).toMatch(/cancelled/);
      expect(r.durationMs).toBeLessThan(2_000);
    });

    it("gives the guest its SIGTERM grace period before SIGKILL", async () => {
      const r = await run(
        "import signal, sys, time\ndef bye(*a):\n    print('term', flush=True)\n    sys.exit(0)\nsignal.signal(signal.SIGTERM, bye)\nwhile True: time.sleep(0.05)",
        { timeoutMs: 500, killGraceMs: 2_000 },
      );
      expect(r.error?.code).toBe("TIMEOUT");
      expect(r.stdout).toBe("term\n");
    });
  });
});

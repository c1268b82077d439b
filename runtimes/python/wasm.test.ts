/**
 * The Python WasmRuntime in-process: one load() (compile + snapshot) for the file, a fresh instance
 * per run.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { NO_NETWORK_REPLY } from "../../src/sandbox/host-call.js";
import { DEFAULT_LIMITS, type Limits } from "../../src/sandbox/limits.js";
import { type ExecutionRequest, WORKSPACE, type WorkspaceFile } from "../../src/sandbox/types.js";
import { PreparationGauge } from "../../src/sandbox/wasm/preparation-gauge.js";
import {
  DEFAULT_RUNNER_OPTIONS,
  type OutputSink,
  type Runner,
  type RunOutcome,
  type RuntimeAssets,
} from "../../src/sandbox/wasm/runtime.js";
import { python as cases } from "../../test/conformance/cases/python.js";
import { GuestLimitError } from "../../wasm/host/guest-limit.js";
import { prepareRestored } from "../../wasm/host/snapshot-module.js";
import { preparingHost } from "../../wasm/host/wasi-host.js";
import { encodeRunRequest, PythonGuest, type RunRequestFields } from "./guest.js";
import { createPythonHost } from "./instance.js";
import { isPythonAssets, pythonWasmRuntime } from "./wasm.js";
import { SCRIPT_PATH } from "./wasm-runner.js";

class CappedSink implements OutputSink {
  private readonly chunks: Uint8Array[] = [];
  length = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  write(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    const room = this.cap - this.length;
    const kept = bytes.subarray(0, Math.max(0, room));
    this.chunks.push(kept.slice());
    this.length += kept.byteLength;
    if (kept.byteLength < bytes.byteLength) {
      this.truncated = true;
      throw new GuestLimitError("OUTPUT_LIMIT", `output exceeded ${this.cap} bytes`);
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

interface Result extends RunOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

let assets: RuntimeAssets;
let runner: Runner;

async function run(
  code: string,
  request: Partial<Omit<ExecutionRequest, "code">> = {},
  limits: Partial<Limits> = {},
): Promise<Result> {
  const all: Limits = { ...DEFAULT_LIMITS, ...limits };
  const stdout = new CappedSink(all.maxOutputBytes);
  const stderr = new CappedSink(all.maxOutputBytes);
  const deadline = Date.now() + all.timeoutMs;
  const started = performance.now();
  const outcome = await runner.run(
    { language: "python", code, stdin: "", args: [], env: {}, files: [], ...request },
    { limits: all, deadline, stdout, stderr, cancelled: () => Date.now() >= deadline, http: () => NO_NETWORK_REPLY },
  );
  return { ...outcome, stdout: stdout.text(), stderr: stderr.text(), ms: performance.now() - started };
}

const file = (path: string, content: string): WorkspaceFile => ({ path, content: new TextEncoder().encode(content) });
const text = (f: WorkspaceFile | undefined): string | undefined =>
  f ? new TextDecoder().decode(f.content) : undefined;

beforeAll(async () => {
  assets = await pythonWasmRuntime.load();
  runner = await pythonWasmRuntime.createRunner(assets);
}, 60_000);

describe("python on wasm: basics", () => {
  it("prints hello world", async () => {
    const r = await run(cases.hello);
    expect(r).toMatchObject({ exitCode: 0, stdout: "hello world\n", stderr: "" });
    expect(r.error).toBeUndefined();
  });

  it("reports the runtime version", async () => {
    const r = await run("import sys; print(sys.version_info[:3], sys.platform)");
    expect(r.stdout).toBe("(3, 11, 2) wasi\n");
  });

  it("copies stdin verbatim", async () => {
    const stdin = "line 1\nline two ü\n\nlast";
    expect((await run(cases.echoStdin, { stdin })).stdout).toBe(stdin);
  });

  it("speaks UTF-8 on its standard streams", async () => {
    const r = await run("import sys\ns = input()\nprint(s.upper(), '✓', sys.stdout.encoding)", { stdin: "héllo\n" });
    expect(r.stdout).toBe("HÉLLO ✓ utf-8\n");
  });

  it("reads stdin with input()", async () => {
    const r = await run("a = input(); b = input(); print(int(a) + int(b))", { stdin: "2\n40\n" });
    expect(r.stdout).toBe("42\n");
  });

  it("passes args as sys.argv[1:] with sys.argv[0] the script", async () => {
    const r = await run("import sys; print(sys.argv)", { args: ["a b", "--x=1", ""] });
    expect(r.stdout).toBe("['/workspace/main.py', 'a b', '--x=1', '']\n");
    expect((await run(cases.printArgs, { args: ["x", "y"] })).stdout).toBe("x,y\n");
  });

  it("passes exactly the request's environment", async () => {
    expect((await run(cases.printEnv, { env: { GREETING: "hi there" } })).stdout).toBe("hi there\n");
    const r = await run("import os; print(sorted(os.environ.items())); print(os.getenv('B'))", {
      env: { A: "1", B: "two=2" },
    });
    expect(r.stdout).toBe("[('A', '1'), ('B', 'two=2')]\ntwo=2\n");
  });

  it("runs in /workspace with the script's directory on sys.path", async () => {
    const r = await run("import os, sys, helper; print(os.getcwd(), sys.path[0], helper.VALUE, __file__, __name__)", {
      files: [file("helper.py", "VALUE = 7\n")],
    });
    expect(r.stdout).toBe("/workspace /workspace 7 /workspace/main.py __main__\n");
  });

  it("reads and writes workspace files", async () => {
    const r = await run(cases.files, { files: [file("input.txt", "abc"), file("untouched.txt", "same")] });
    expect(r.exitCode).toBe(0);
    const byPath = new Map(r.files.map((f) => [f.path, f]));
    expect(text(byPath.get("output.txt"))).toBe("ABC");
    expect(text(byPath.get("nested/deep/new.txt"))).toBe("new");
    expect(text(byPath.get("untouched.txt"))).toBe("same");
    expect(text(byPath.get("main.py"))).toBe(cases.files);
  });
});

describe("python on wasm: exit status and errors", () => {
  it("sys.exit(3) gives exit code 3 and NON_ZERO_EXIT", async () => {
    const r = await run(cases.exit3);
    expect(r).toMatchObject({ exitCode: 3, stdout: "", stderr: "" });
    expect(r.error?.code).toBe("NON_ZERO_EXIT");
  });

  it("sys.exit() variants behave as python3", async () => {
    expect((await run("import sys; sys.exit()")).exitCode).toBe(0);
    expect((await run("exit(4)")).exitCode).toBe(4);
    const r = await run("import sys; sys.exit('bye')");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe("bye\n");
    expect((await run("import os, sys; sys.stdout.flush(); os._exit(5)")).exitCode).toBe(5);
  });

  it("an uncaught exception gives exit 1 and a traceback naming /workspace/main.py", async () => {
    const r = await run(`x = 1\n${cases.throwBoom}`);
    expect(r.exitCode).toBe(1);
    expect(r.error?.code).toBe("NON_ZERO_EXIT");
    expect(r.stderr).toContain('File "/workspace/main.py", line 2, in <module>');
    expect(r.stderr).toContain('raise RuntimeError("boom")');
    expect(r.stderr.trimEnd().endsWith("RuntimeError: boom")).toBe(true);
  });

  it("stdlib frames name the guest's install prefix, not the build machine", async () => {
    const r = await run("import json\njson.loads('{')");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('File "/usr/local/lib/python3.11/json/decoder.py"');
    expect(r.stderr).toContain("json.decoder.JSONDecodeError");
    expect(r.stderr).not.toContain("/work/");
  });

  it("sysconfig names the build's neutral directories, not the machine that built it", async () => {
    // build.sh maps its build directory to /build and its checkout to /repo (reproducible builds).
    const r = await run(
      [
        "import re, sysconfig",
        "v = sysconfig.get_config_vars()",
        "print(v['abs_builddir'])",
        "roots = {m for x in v.values() if isinstance(x, str) for m in re.findall(r'(?<![\\w.])/[\\w.+-]+', x)}",
        "print(sorted(roots))",
      ].join("\n"),
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("/build/wasi\n['/bin', '/build', '/etc', '/repo', '/usr']\n");
  });

  it("sys.version carries the source's date, not the build's (reproducible builds)", async () => {
    // build.sh: the python3.11 source package's changelog entry (see wasm/python/BUILD-INFO.md).
    const r = await run("import platform; print(platform.python_build())");
    expect(r.stdout).toBe("('main', 'May 12 2026 05:17:27')\n");
  });

  it("leaves the worker's preparation gauge alone (a run waits for Python's spare)", async () => {
    const gauge = new PreparationGauge();
    const counted = await pythonWasmRuntime.createRunner(assets, { ...DEFAULT_RUNNER_OPTIONS, gauge });
    const deadline = Date.now() + DEFAULT_LIMITS.timeoutMs;
    const sink = new CappedSink(DEFAULT_LIMITS.maxOutputBytes);
    await counted.run(
      { language: "python", code: "print(1)", stdin: "", args: [], env: {}, files: [] },
      {
        limits: DEFAULT_LIMITS,
        deadline,
        stdout: sink,
        stderr: sink,
        cancelled: () => false,
        http: () => NO_NETWORK_REPLY,
      },
    );
    expect(sink.text()).toBe("1\n");
    expect(gauge.busy).toBe(false);
  }, 60_000);

  it("a syntax error names the script", async () => {
    const r = await run("print(1\n");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('File "/workspace/main.py", line 1');
    expect(r.stderr).toContain("SyntaxError");
  });

  it("flushes buffered stdout and runs atexit handlers", async () => {
    const r = await run(
      "import atexit\natexit.register(lambda: print('bye'))\nprint('hi', end='')\nraise SystemExit(2)",
    );
    expect(r).toMatchObject({ exitCode: 2, stdout: "hibye\n" });
  });
});

describe("python on wasm: standard library", () => {
  it("imports json, re, datetime, decimal, zlib, bz2, lzma, hashlib, csv, xml, asyncio", async () => {
    const code = [
      "import json, re, datetime, decimal, zlib, bz2, lzma, hashlib, csv, io, xml.etree.ElementTree as ET, asyncio, collections",
      "print(json.dumps({'a': [1, 2]}, sort_keys=True))",
      "print(re.sub(r'(\\d+)', r'<\\1>', 'a12b3'))",
      "print(datetime.date(2024, 2, 29) + datetime.timedelta(days=1))",
      "print(decimal.Decimal('0.1') + decimal.Decimal('0.2'))",
      "data = b'x' * 1000",
      "print(zlib.decompress(zlib.compress(data)) == data, bz2.decompress(bz2.compress(data)) == data, lzma.decompress(lzma.compress(data)) == data)",
      "print(hashlib.sha256(b'abc').hexdigest()[:16], hashlib.md5(b'abc').hexdigest()[:8])",
      "print(list(csv.reader(io.StringIO('a,b\\n1,2'))))",
      "print(ET.fromstring('<r><x>1</x></r>').find('x').text)",
      "async def main():\n    await asyncio.gather(asyncio.sleep(0.01), asyncio.sleep(0))\n    return 'async ok'",
      "print(asyncio.run(main()))",
      "print(collections.Counter('abca').most_common(1))",
    ].join("\n");
    const r = await run(code);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        '{"a": [1, 2]}',
        "a<12>b<3>",
        "2024-03-01",
        "0.3",
        "True True True",
        "ba7816bf8f01cfea 90015098",
        "[['a', 'b'], ['1', '2']]",
        "1",
        "async ok",
        "[('a', 2)]",
        "",
      ].join("\n"),
    );
  });

  it("has no ssl, ctypes, subprocess or threads", async () => {
    const r = await run(
      [
        "import importlib",
        "for name in ['ssl', 'ctypes', '_posixsubprocess', 'sqlite3']:",
        "    try:",
        "        importlib.import_module(name)",
        "        print(name, 'present')",
        "    except ImportError:",
        "        print(name, 'absent')",
        "import threading",
        "try:",
        "    threading.Thread(target=print).start()",
        "    print('thread started')",
        "except RuntimeError as e:",
        "    print('no threads:', e)",
      ].join("\n"),
    );
    expect(r.stdout).toBe(
      "ssl absent\nctypes absent\n_posixsubprocess absent\nsqlite3 absent\nno threads: can't start new thread\n",
    );
  });
});

describe("python on wasm: limits", () => {
  it("bytearray(2**30) under a 256 MiB cap is a MemoryError reported as MEMORY_LIMIT", async () => {
    const r = await run("x = bytearray(2**30)", {}, { memoryLimitBytes: 256 * 1024 * 1024 });
    expect(r.exitCode).toBe(1);
    expect(r.error?.code).toBe("MEMORY_LIMIT");
    expect(r.stderr).toContain("MemoryError");
  });

  it("a MemoryError that no failed allocation caused is an ordinary error", async () => {
    const r = await run("eval('[' * 5000 + ']' * 5000)");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("MemoryError");
    expect(r.error?.code).toBe("NON_ZERO_EXIT");
  });

  it("a MemoryError caught by the code is not a limit hit", async () => {
    const r = await run("try:\n    bytearray(2**30)\nexcept MemoryError:\n    print('caught')");
    expect(r).toMatchObject({ exitCode: 0, stdout: "caught\n" });
    expect(r.error).toBeUndefined();
  });

  it("a recursion deeper than the host stack is a SANDBOX_FAULT, not a host crash", async () => {
    const r = await run(
      "import sys\nsys.setrecursionlimit(10**6)\nx = []\nfor _ in range(200000):\n    x = [x]\nrepr(x)",
    );
    expect(r.exitCode).toBeNull();
    expect(r.error?.code).toBe("SANDBOX_FAULT");
  });

  it("an unbounded allocation stops at the cap", async () => {
    const r = await run(cases.memoryBomb, {}, { memoryLimitBytes: 128 * 1024 * 1024 });
    expect(r.error?.code).toBe("MEMORY_LIMIT");
  });

  it("a cap below the interpreter's own size is MEMORY_LIMIT without running", async () => {
    const r = await run(cases.hello, {}, { memoryLimitBytes: 4 * 1024 * 1024 });
    expect(r.error?.code).toBe("MEMORY_LIMIT");
    expect(r.stdout).toBe("");
  });

  it("stops output at the cap with OUTPUT_LIMIT", async () => {
    const r = await run(cases.outputFlood, {}, { maxOutputBytes: 4096 });
    expect(r.error?.code).toBe("OUTPUT_LIMIT");
    expect(r.stdout.length).toBe(4096);
  });

  it("stops filesystem writes at the quota with FILESYSTEM_LIMIT", async () => {
    const r = await run(
      "with open('big.bin', 'wb') as f:\n    while True:\n        f.write(b'x' * 65536)\n        f.flush()",
      {},
      { maxFilesystemBytes: 1024 * 1024 },
    );
    expect(r.error?.code).toBe("FILESYSTEM_LIMIT");
  });

  it("a sleep past the deadline ends with TIMEOUT", async () => {
    const r = await run("import time\ntime.sleep(30)", {}, { timeoutMs: 300 });
    expect(r.error?.code).toBe("TIMEOUT");
    expect(r.ms).toBeLessThan(5_000);
  });

  it("deep recursion is a RecursionError, not a crash", async () => {
    const r = await run("def f(n):\n    return f(n + 1)\nf(0)");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("RecursionError");
    const nested = await run("x = []\nfor _ in range(100000):\n    x = [x]\nprint(len(repr(x)))");
    expect(nested.exitCode).toBe(1);
    expect(nested.stderr).toContain("RecursionError");
  });
});

describe("python on wasm: isolation", () => {
  it("sees only the virtual filesystem", async () => {
    const r = await run("import os; print(sorted(os.listdir('/')))");
    expect(r.stdout).toBe("['tmp', 'workspace']\n");
  });

  it("cannot read host files or /proc", async () => {
    for (const path of ["/etc/passwd", "/proc/self/environ", "/proc/1/environ", "/root/.bashrc"]) {
      const r = await run(cases.readHostFile(path));
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/FileNotFoundError|PermissionError|OSError/);
    }
  });

  it("cannot modify the standard library zip", async () => {
    const r = await run(
      [
        "import os",
        "def overwrite():",
        "    with open('/usr/local/lib/python311.zip', 'r+b', buffering=0) as f:",
        "        f.write(b'garbage')",
        "def truncate():",
        "    with open('/usr/local/lib/python311.zip', 'wb') as f:",
        "        pass",
        "for attempt in (overwrite, truncate, lambda: os.remove('/usr/local/lib/python311.zip'),",
        "                lambda: open('/usr/local/lib/evil.py', 'w'), lambda: os.rename('/usr/local/lib/python311.zip', '/tmp/x')):",
        "    try:",
        "        attempt()",
        "        print('allowed')",
        "    except OSError as e:",
        "        print('denied')",
      ].join("\n"),
    );
    expect(r.stdout).toBe("denied\ndenied\ndenied\ndenied\ndenied\n");
    // A module not preloaded, so it is read from the zip after the attempts above.
    expect((await run("import fractions; print(fractions.Fraction(1, 3) * 3)")).stdout).toBe("1\n");
  });

  it("has no process spawning", async () => {
    const r = await run(
      [
        "import os",
        "print(hasattr(os, 'system'), hasattr(os, 'fork'), hasattr(os, 'execv'), hasattr(os, 'posix_spawn'))",
        "try:",
        "    import subprocess",
        "    subprocess.run(['ls'])",
        "    print('spawned')",
        "except Exception as e:",
        "    print('no subprocess:', type(e).__name__)",
      ].join("\n"),
    );
    expect(r.stdout).toMatch(/^False False False False\nno subprocess: \w+\n$/);
  });

  it("cannot open a socket connection", async () => {
    const r = await run(cases.connect(9));
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toBe("");
    const raw = await run(
      "import socket\ntry:\n    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n    print('socket created')\nexcept OSError as e:\n    print('denied', e.errno)",
    );
    expect(raw.stdout).toMatch(/^denied \d+\n$/);
  });

  it("shares no globals, files, module patches or random stream between runs", async () => {
    const first = await run(cases.leakWrite);
    expect(first.exitCode).toBe(0);
    expect(first.files.map((f) => f.path)).toContain("leak.txt");
    const check = await run(cases.leakCheck);
    expect(check.stdout).toBe("clean\n");
    const again = await run(cases.leakWrite);
    expect(again.stdout).not.toBe(first.stdout);
    const randoms = await Promise.all([1, 2, 3].map(() => run(cases.printRandom)));
    expect(new Set(randoms.map((r) => r.stdout)).size).toBe(3);
    const urandoms = await Promise.all([1, 2].map(() => run("import os; print(os.urandom(8).hex())")));
    expect(urandoms[0]?.stdout).not.toBe(urandoms[1]?.stdout);
  });

  /**
   * A restored instance, primed or not, whose /workspace/main.py holds `code`, run once with the
   * request `encode` makes (by default, without the source: the reactor reads the file).
   */
  function runRestored(
    code: string,
    options: { prime?: boolean; request?: (fields: RunRequestFields) => Uint8Array } = {},
  ): { status: number; stdout: string; stderr: string } {
    if (!isPythonAssets(assets)) throw new Error("not Python's assets");
    const spare = prepareRestored(assets, DEFAULT_LIMITS.memoryLimitBytes);
    const guest = new PythonGuest(spare.instance, spare.memory);
    if (options.prime) spare.prepareWith(preparingHost(spare.memory), () => guest.prime());
    const stdout = new CappedSink(4096);
    const stderr = new CappedSink(4096);
    const { host } = createPythonHost(assets.stdlib, {
      files: [file("main.py", code)],
      stdin: "",
      maxFilesystemBytes: DEFAULT_LIMITS.maxFilesystemBytes,
      library: assets.library,
      context: {
        stdout,
        stderr,
        deadline: Date.now() + 10_000,
        cancelled: () => false,
        http: () => NO_NETWORK_REPLY,
      },
    });
    spare.attach(host);
    const fields: RunRequestFields = { cwd: WORKSPACE, argv: [SCRIPT_PATH], env: {} };
    const status = guest.run((options.request ?? encodeRunRequest)(fields));
    return { status, stdout: stdout.text(), stderr: stderr.text() };
  }

  describe("the script's source in the run request", () => {
    const withSource = (source: string) => (fields: RunRequestFields) =>
      encodeRunRequest({ ...fields, source: new TextEncoder().encode(source) });

    it("is compiled from memory instead of the file", () => {
      const r = runRestored('print("file")', { request: withSource('print("memory")') });
      expect(r).toEqual({ status: 0, stdout: "memory\n", stderr: "" });
    });

    it("gives way to the file when it holds a NUL or may declare its encoding", () => {
      for (const source of ['print("memory")\0', '# -*- coding: utf-8 -*-\nprint("memory")']) {
        const r = runRestored('print("file")', { request: withSource(source) });
        expect(r).toEqual({ status: 0, stdout: "file\n", stderr: "" });
      }
    });

    it("refuses a request whose source length does not match its bytes", () => {
      const cut = (fields: RunRequestFields) => withSource('print("memory")')(fields).subarray(0, -1);
      const r = runRestored('print("file")', { request: cut });
      expect(r.status).toBe(-1);
      expect(r.stdout).toBe("");
    });
  });

  describe("priming a restored instance (pyreactor_prime)", () => {
    /** The stdout of `code` run once in a restored instance, primed or not. */
    function runPrinting(code: string, prime: boolean): string {
      const r = runRestored(code, { prime });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
      return r.stdout;
    }

    it("gives each primed instance its own random stream, and reseeds in the run one not primed", () => {
      const primed = [runPrinting(cases.printRandom, true), runPrinting(cases.printRandom, true)];
      const unprimed = [runPrinting(cases.printRandom, false), runPrinting(cases.printRandom, false)];
      expect(new Set([...primed, ...unprimed]).size).toBe(4);
    });

    it("reseeds from the host's random_get, and only once, before the run", () => {
      if (!isPythonAssets(assets)) throw new Error("not Python's assets");
      const spare = prepareRestored(assets, DEFAULT_LIMITS.memoryLimitBytes);
      const guest = new PythonGuest(spare.instance, spare.memory);
      const noImports = { imports: {}, bind: () => undefined };
      expect(() => spare.prepareWith(noImports, () => guest.prime())).toThrow(/random_get called before/);
      const other = prepareRestored(assets, DEFAULT_LIMITS.memoryLimitBytes);
      const primed = new PythonGuest(other.instance, other.memory);
      other.prepareWith(preparingHost(other.memory), () => primed.prime());
      expect(() => other.prepareWith(preparingHost(other.memory), () => primed.prime())).toThrow(/pyreactor_prime/);
    });
  });

  it("does not leak the host environment", async () => {
    const r = await run(cases.dumpEnv, { env: { GREETING: "hi" } });
    expect(r.stdout).toBe("GREETING=hi\n");
  });
});

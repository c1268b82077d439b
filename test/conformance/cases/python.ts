/**
 * Python snippets for the conformance suite. Each behaves the same under CPython 3.11 for WASI
 * (WasmSandbox) and the host's python3 (ProcessSandbox).
 */
import type { LanguageCases } from "./types.js";

/** A Python string literal for `value` (JSON strings are valid Python literals for this use). */
function pyString(value: string): string {
  return JSON.stringify(value);
}

export const python: LanguageCases = {
  hello: 'print("hello world")\n',

  echoStdin: "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n",

  printArgs: 'import sys\nprint(",".join(sys.argv[1:]))\n',

  printEnv: 'import os\nprint(os.environ["GREETING"])\n',

  files: [
    "import os",
    'with open("input.txt") as f:',
    "    text = f.read()",
    'with open("output.txt", "w") as f:',
    "    f.write(text.upper())",
    'os.makedirs("nested/deep", exist_ok=True)',
    'with open("nested/deep/new.txt", "w") as f:',
    '    f.write("new")',
    "",
  ].join("\n"),

  exit3: "import sys\nsys.exit(3)\n",

  throwBoom: 'raise RuntimeError("boom")\n',

  infiniteLoop: "while True:\n    pass\n",

  memoryBomb: ["chunks = []", "while True:", "    chunks.append(bytearray(16 * 1024 * 1024))", ""].join("\n"),

  outputFlood: ['line = "x" * 1023', "while True:", "    print(line)", ""].join("\n"),

  leakWrite: [
    "import builtins, json, random",
    "builtins.LEAKED_GLOBAL = 42",
    "json.dumps = lambda *a, **k: 'patched'",
    'with open("leak.txt", "w") as f:',
    '    f.write("leak")',
    'with open("/tmp/leak.txt", "w") as f:',
    '    f.write("leak")',
    "print(random.random())",
    "",
  ].join("\n"),

  leakCheck: [
    "import builtins, json, os",
    "traces = []",
    'if hasattr(builtins, "LEAKED_GLOBAL"):',
    '    traces.append("global")',
    'if json.dumps([1]) != "[1]":',
    '    traces.append("patch")',
    'if os.path.exists("leak.txt"):',
    '    traces.append("workspace file")',
    'if os.path.exists("/tmp/leak.txt"):',
    '    traces.append("tmp file")',
    'print("clean" if not traces else "dirty: " + ",".join(traces))',
    "",
  ].join("\n"),

  printRandom: "import random\nprint(random.random())\n",

  readHostFile(path: string): string {
    return [
      "import sys",
      "try:",
      `    with open(${pyString(path)}, "rb") as f:`,
      "        sys.stdout.buffer.write(f.read())",
      "except Exception as e:",
      "    print(type(e).__name__, e, file=sys.stderr)",
      "",
    ].join("\n");
  },

  dumpEnv: 'import os\nfor k, v in os.environ.items():\n    print(f"{k}={v}")\n',

  connect(port: number): string {
    return [
      "import sys",
      "try:",
      "    import socket",
      `    s = socket.create_connection(("127.0.0.1", ${Math.trunc(port)}), timeout=2)`,
      '    s.sendall(b"x")',
      "    s.close()",
      '    print("connected")',
      "except Exception as e:",
      "    print(type(e).__name__, e, file=sys.stderr)",
      "",
    ].join("\n");
  },
};

/** Guest programs for the ProcessSandbox / NoopSandbox tests, one set per language (test-only data). */

import type { Language } from "../types.js";

export interface Snippets {
  readonly hello: string;
  readonly echoStdin: string;
  readonly printArgs: string;
  readonly printEnv: string;
  /** Reads input.txt, writes OUTPUT.txt upper-cased and nested/deep/new.txt, links to host files. */
  readonly files: string;
  readonly exit3: string;
  /** Prints its uid. */
  readonly uid: string;
  readonly dumpEnv: string;
  /** Starts `sh -c "sleep M & sleep M"` (a child and a grandchild), then spins forever. */
  spawnAndSpin(marker: string): string;
  readonly outputFlood: string;
  readonly memoryBomb: string;
  /** Forks (or spawns) until the system refuses, then prints "refused <count>". */
  readonly forkUntilRefused: string;
  readHostFile(path: string): string;
  connect(port: number): string;
  readonly printOne: string;
}

export const SNIPPETS: Readonly<Record<Language, Snippets>> = {
  python: {
    hello: 'print("hello world")',
    echoStdin: "import sys\nsys.stdout.write(sys.stdin.read())",
    printArgs: 'import sys\nprint(",".join(sys.argv[1:]))',
    printEnv: 'import os\nprint(os.environ["GREETING"])',
    files: [
      "import os",
      'open("output.txt", "w").write(open("input.txt").read().upper())',
      'os.makedirs("nested/deep", exist_ok=True)',
      'open("nested/deep/new.txt", "w").write("new")',
      'os.symlink("/etc/passwd", "link-out")',
      'os.symlink("/work/main/package.json", "link-work")',
    ].join("\n"),
    exit3: "import sys\nsys.exit(3)",
    uid: "import os\nprint(os.getuid())",
    dumpEnv: "import os\nfor k, v in os.environ.items(): print(f'{k}={v}')",
    spawnAndSpin: (m) =>
      `import subprocess\nsubprocess.Popen(["sh", "-c", "sleep ${m} & sleep ${m}"])\nwhile True: pass`,
    outputFlood: 'import sys\nwhile True: sys.stdout.write("x" * 65536)',
    memoryBomb: "a = []\nwhile True: a.append(bytearray(10 * 1024 * 1024))",
    forkUntilRefused: [
      "import os, time",
      "n = 0",
      "try:",
      "    while True:",
      "        if os.fork() == 0:",
      "            time.sleep(30)",
      "            os._exit(0)",
      "        n += 1",
      "except OSError as e:",
      '    print("refused", n, flush=True)',
      "    os._exit(0)",
    ].join("\n"),
    readHostFile: (p) =>
      `import sys\ntry:\n    print(open(${JSON.stringify(p)}).read())\nexcept Exception as e:\n    print(e, file=sys.stderr)`,
    connect: (port) =>
      `import socket, sys\ntry:\n    s = socket.create_connection(("127.0.0.1", ${port}), timeout=2)\n    s.sendall(b"x")\n    print("connected")\nexcept Exception as e:\n    print(e, file=sys.stderr)`,
    printOne: "print(1)",
  },
  javascript: {
    hello: 'console.log("hello world")',
    echoStdin: 'process.stdout.write(require("fs").readFileSync(0))',
    printArgs: 'console.log(process.argv.slice(2).join(","))',
    printEnv: "console.log(process.env.GREETING)",
    files: [
      'const fs = require("fs");',
      'fs.writeFileSync("output.txt", fs.readFileSync("input.txt", "utf8").toUpperCase());',
      'fs.mkdirSync("nested/deep", { recursive: true });',
      'fs.writeFileSync("nested/deep/new.txt", "new");',
      'fs.symlinkSync("/etc/passwd", "link-out");',
      'fs.symlinkSync("/work/main/package.json", "link-work");',
    ].join("\n"),
    exit3: "process.exit(3)",
    uid: "console.log(process.getuid())",
    dumpEnv: 'for (const [k, v] of Object.entries(process.env)) console.log(k + "=" + v)',
    spawnAndSpin: (m) =>
      `require("child_process").spawn("sh", ["-c", "sleep ${m} & sleep ${m}"], { stdio: "ignore" });\nfor (;;) {}`,
    outputFlood: 'const s = "x".repeat(65536);\nfor (;;) require("fs").writeSync(1, s);',
    memoryBomb: "const a = [];\nfor (;;) a.push(new Array(1e6).fill(1.5));",
    forkUntilRefused: [
      'const { spawnSync, spawn } = require("child_process");',
      "let n = 0;",
      "for (;;) {",
      '  const c = spawnSync("sleep", ["0.001"]);',
      "  if (c.error) { console.log('refused', n); process.exit(0); }",
      '  spawn("sleep", ["30"], { stdio: "ignore" }).on("error", () => {});',
      "  n++;",
      "}",
    ].join("\n"),
    readHostFile: (p) =>
      `try { console.log(require("fs").readFileSync(${JSON.stringify(p)}, "utf8")); } catch (e) { console.error(String(e)); }`,
    connect: (port) =>
      `const s = require("net").connect(${port}, "127.0.0.1", () => { s.write("x"); console.log("connected"); s.end(); });\ns.on("error", (e) => console.error(String(e)));`,
    printOne: "console.log(1)",
  },
  ruby: {
    hello: 'puts "hello world"',
    echoStdin: "$stdout.write($stdin.read)",
    printArgs: 'puts ARGV.join(",")',
    printEnv: 'puts ENV["GREETING"]',
    files: [
      'File.write("output.txt", File.read("input.txt").upcase)',
      'require "fileutils"',
      'FileUtils.mkdir_p("nested/deep")',
      'File.write("nested/deep/new.txt", "new")',
      'File.symlink("/etc/passwd", "link-out")',
      'File.symlink("/work/main/package.json", "link-work")',
    ].join("\n"),
    exit3: "exit 3",
    uid: "puts Process.uid",
    dumpEnv: 'ENV.each { |k, v| puts "#{k}=#{v}" }',
    spawnAndSpin: (m) => `spawn("sh", "-c", "sleep ${m} & sleep ${m}")\nloop {}`,
    outputFlood: 's = "x" * 65536\nloop { $stdout.write(s) }',
    memoryBomb: 'a = []\nloop { a << ("x" * 10_000_000) }',
    forkUntilRefused: [
      "n = 0",
      "begin",
      "  loop do",
      "    fork { sleep 30 }",
      "    n += 1",
      "  end",
      "rescue Errno::EAGAIN, NotImplementedError => e",
      '  puts "refused #{n}"',
      "end",
    ].join("\n"),
    readHostFile: (p) => `begin\n  puts File.read(${JSON.stringify(p)})\nrescue => e\n  warn e.message\nend`,
    connect: (port) =>
      `require "socket"\nbegin\n  s = TCPSocket.new("127.0.0.1", ${port})\n  s.write("x")\n  puts "connected"\nrescue => e\n  warn e.message\nend`,
    printOne: "puts 1",
  },
  bash: {
    hello: 'echo "hello world"',
    echoStdin: "cat",
    printArgs: 'IFS=,; echo "$*"',
    printEnv: 'echo "$GREETING"',
    files: [
      "tr a-z A-Z < input.txt > output.txt",
      "mkdir -p nested/deep",
      "printf new > nested/deep/new.txt",
      "ln -s /etc/passwd link-out 2>/dev/null || true",
    ].join("\n"),
    exit3: "exit 3",
    uid: "echo $UID",
    dumpEnv: "while IFS= read -r -d '' e; do echo \"$e\"; done < /proc/self/environ; set",
    spawnAndSpin: (m) => `sh -c "sleep ${m} & sleep ${m}" &\nwhile :; do :; done`,
    outputFlood: "s=$(printf 'x%.0s' $(seq 1 4096)); while :; do echo -n \"$s\"; done",
    memoryBomb: 'x=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; while :; do x="$x$x"; done',
    forkUntilRefused:
      'n=0\nwhile [ $n -lt 1000 ]; do\n  if ! sleep 30 2>/dev/null & then break; fi\n  n=$((n+1))\ndone\necho "refused $n"',
    readHostFile: (p) => `cat ${JSON.stringify(p)}`,
    connect: (port) => `(echo x > /dev/tcp/127.0.0.1/${port}) && echo connected`,
    printOne: "echo 1",
  },
};

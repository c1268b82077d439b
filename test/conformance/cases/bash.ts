/**
 * Conformance snippets for Bash. Each behaves the same on just-bash inside QuickJS (WasmSandbox) and
 * on GNU bash 5.2 (ProcessSandbox): only bash builtins and the tools both offer (cat, tr, mkdir, env)
 * appear, since ProcessSandbox shows only an allowlist of host tools.
 */
import type { LanguageCases } from "./types.js";

/** A single-quoted shell word: nothing inside is expanded; a quote is closed, escaped, reopened. */
function shellWord(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

export const bash: LanguageCases = {
  hello: 'echo "hello world"\n',
  echoStdin: "cat\n",
  printArgs: "(IFS=,; printf '%s\\n' \"$*\")\n",
  printEnv: "printf '%s\\n' \"$GREETING\"\n",
  files: [
    "tr '[:lower:]' '[:upper:]' < input.txt > output.txt",
    "mkdir -p nested/deep",
    "printf new > nested/deep/new.txt",
    "",
  ].join("\n"),
  exit3: "exit 3\n",
  // bash's "uncaught exception": a failed ${var:?message} expansion aborts the script with status 1.
  throwBoom: ': "${SANDBOX_UNSET_VARIABLE:?boom}"\necho unreachable\n',
  infiniteLoop: "while true; do :; done\n",
  // String doubling: just-bash stops at its string limit (memory/16), GNU bash at RLIMIT_AS.
  memoryBomb: 's=x\nwhile true; do s="$s$s"; done\n',
  // 1 KiB lines, so the flood is fast even in an interpreter with a slow loop.
  outputFlood: 's=x\nfor i in 1 2 3 4 5 6 7 8 9 10; do s=$s$s; done\nwhile true; do echo "$s"; done\n',
  leakWrite: [
    "export SANDBOX_LEAK=42",
    "cd() { :; }",
    "echo leak > leak.txt",
    "echo leak > /tmp/leak.txt",
    'echo "$RANDOM$RANDOM$RANDOM"',
    "",
  ].join("\n"),
  leakCheck: [
    'if [ -z "${SANDBOX_LEAK+set}" ] && [ "$(type -t cd)" = builtin ] && [ ! -e leak.txt ] && [ ! -e /tmp/leak.txt ]; then',
    "  echo clean",
    "fi",
    "",
  ].join("\n"),
  printRandom: 'echo "$RANDOM$RANDOM$RANDOM"\n',
  readHostFile(path: string): string {
    return `cat -- ${shellWord(path)}\n`;
  },
  dumpEnv: "env\n",
  connect(port: number): string {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid port ${port}`);
    return `printf x > /dev/tcp/127.0.0.1/${port}\n`;
  },
};

/**
 * Conformance snippets for Ruby. Each behaves the same on ruby.wasm 3.4 (WasmSandbox) and on the
 * host's ruby 3.1 (ProcessSandbox): only core and stdlib APIs both versions share.
 */
import type { LanguageCases } from "./types.js";

/** A single-quoted Ruby literal: no interpolation, only \\ and \' are escapes. */
function rubyString(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

export const ruby: LanguageCases = {
  hello: 'puts "hello world"\n',
  echoStdin: "$stdout.binmode\n$stdout.write($stdin.binmode.read)\n",
  printArgs: 'puts ARGV.join(",")\n',
  printEnv: 'puts ENV["GREETING"]\n',
  files: [
    'require "fileutils"',
    'File.write("output.txt", File.read("input.txt", encoding: "UTF-8").upcase)',
    'FileUtils.mkdir_p("nested/deep")',
    'File.write("nested/deep/new.txt", "new")',
    "",
  ].join("\n"),
  exit3: "exit 3\n",
  throwBoom: 'raise "boom"\n',
  infiniteLoop: "loop {}\n",
  // 16 MB strings, all kept: a 256 MiB cap is reached after about 16 iterations.
  memoryBomb: 'hoard = []\nloop { hoard << ("x" * 16_000_000) }\n',
  outputFlood: 'chunk = "x" * 65_536\nloop { $stdout.write(chunk) }\n',
  leakWrite: [
    "$sandbox_leak = 42",
    "class String",
    "  def sandbox_leak; end",
    "end",
    'File.write("leak.txt", "leak")',
    'File.write("/tmp/leak.txt", "leak")',
    "puts rand",
    "",
  ].join("\n"),
  leakCheck: [
    "traces = [",
    "  !$sandbox_leak.nil?,",
    '  "".respond_to?(:sandbox_leak),',
    '  File.exist?("leak.txt"),',
    '  File.exist?("/tmp/leak.txt"),',
    "]",
    'puts "clean" if traces.none?',
    "",
  ].join("\n"),
  printRandom: "puts rand\n",
  readHostFile(path: string): string {
    return [
      "begin",
      `  print File.binread(${rubyString(path)})`,
      "rescue Exception => e",
      "  warn e.message",
      "end",
      "",
    ].join("\n");
  },
  dumpEnv: 'ENV.each { |name, value| puts "#{name}=#{value}" }\n',
  connect(port: number): string {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid port ${port}`);
    return [
      "begin",
      '  require "socket"',
      `  socket = TCPSocket.new("127.0.0.1", ${port})`,
      '  socket.write("x")',
      "  socket.close",
      "rescue Exception => e",
      "  warn e.message",
      "end",
      "",
    ].join("\n");
  },
};

import type { LanguageCases } from "./types.js";

/** Node-compatible snippets: the same text runs on real node and on the QuickJS guest. */
export const javascript: LanguageCases = {
  hello: 'console.log("hello world")',
  echoStdin: 'process.stdout.write(require("fs").readFileSync(0, "utf8"))',
  printArgs: 'console.log(process.argv.slice(2).join(","))',
  printEnv: "console.log(process.env.GREETING)",
  files: [
    'const fs = require("fs");',
    'const text = fs.readFileSync("input.txt", "utf8");',
    'fs.writeFileSync("output.txt", text.toUpperCase());',
    'fs.mkdirSync("nested/deep", { recursive: true });',
    'fs.writeFileSync("nested/deep/new.txt", "new");',
  ].join("\n"),
  exit3: "process.exit(3)",
  throwBoom: 'throw new Error("boom")',
  infiniteLoop: "for (;;) {}",
  memoryBomb: "const a = []; for (;;) a.push(new Array(100000).fill(a.length));",
  outputFlood: 'const s = "x".repeat(1024); for (;;) process.stdout.write(s);',
  leakWrite: [
    'const fs = require("fs");',
    "globalThis.leaked = 1;",
    'JSON.stringify = () => "patched";',
    'fs.writeFileSync("leak.txt", "x");',
    'fs.writeFileSync("/tmp/leak.txt", "x");',
    "console.log(Math.random());",
  ].join("\n"),
  leakCheck: [
    'const fs = require("fs");',
    "const clean = typeof globalThis.leaked === 'undefined'",
    "  && JSON.stringify({ a: 1 }) === '{\"a\":1}'",
    '  && !fs.existsSync("leak.txt") && !fs.existsSync("/tmp/leak.txt");',
    'console.log(clean ? "clean" : "dirty");',
  ].join("\n"),
  printRandom: "console.log(Math.random())",
  readHostFile: (path) =>
    `try { process.stdout.write(require("fs").readFileSync(${JSON.stringify(path)}, "utf8")); } catch (e) { console.error(String(e)); }`,
  dumpEnv: 'for (const [k, v] of Object.entries(process.env)) console.log(k + "=" + v);',
  connect: (port) =>
    [
      "try {",
      '  const net = require("net");',
      `  const socket = net.connect(${port}, "127.0.0.1", () => socket.end("x"));`,
      '  socket.on("error", (e) => console.error(String(e)));',
      "} catch (e) { console.error(String(e)); }",
    ].join("\n"),
};

/**
 * Baseline: ruby.wasm the way its README does it, with @ruby/wasm-wasi's stock Node glue
 * (DefaultRubyVM: node:wasi + RubyVM.instantiateModule), no snapshot. The module is compiled once;
 * each run instantiates and initialises a fresh VM, then evaluates a trivial expression.
 *
 * Usage: node --import tsx benchmarks/probes/naive-ruby-wasm.ts <runs>
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DefaultRubyVM } from "@ruby/wasm-wasi/dist/node";
import { round, summarize } from "../lib/stats.js";

const runs = Number(process.argv[2] ?? "3");
const require = createRequire(import.meta.url);
const wasmPath = require.resolve("@ruby/3.4-wasm-wasi/dist/ruby+stdlib.wasm");
// The package exports no ./package.json; its CommonJS entry is <root>/dist/cjs/index.js.
const packageRoot = join(dirname(require.resolve("@ruby/wasm-wasi")), "..", "..");
const manifest = JSON.parse(await readFile(join(packageRoot, "package.json"), "utf8")) as {
  version: string;
};

const compileStarted = performance.now();
const module = await WebAssembly.compile(await readFile(wasmPath));
const compileMs = performance.now() - compileStarted;

const init: number[] = [];
const initAndRun: number[] = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const { vm } = await DefaultRubyVM(module);
  const ready = performance.now();
  const value = vm.eval("1 + 0").toString();
  const done = performance.now();
  if (value !== "1") throw new Error(`ruby.wasm evaluated 1 + 0 to ${value}`);
  init.push(ready - started);
  initAndRun.push(done - started);
}
process.stdout.write(
  `${JSON.stringify({
    compileMs: round(compileMs),
    init: summarize(init),
    initAndRun: summarize(initAndRun),
    packageVersion: manifest.version,
  })}\n`,
);
process.exit(0);

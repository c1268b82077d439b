/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. written by measure-http.ts with
 * CPU_PROF=<dir>): `npx tsx benchmarks/dev/cpuprofile-summary.ts <file> [top]`. Prints the busiest
 * functions by self time, and the inclusive time of samples whose stack contains a frame of each
 * category below (a sample can count in several categories). A development tool.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Category name -> test on one frame ("function url"). */
const CATEGORIES: ReadonlyArray<readonly [string, RegExp]> = [
  ["store (SqliteStore)", /sqlite-store\.js/],
  [
    "  of which better-sqlite3 native (run/get/transaction)",
    /^(run|get|all|exec|transaction|immediate) .*better-sqlite3|^\(anonymous\) .*better-sqlite3/,
  ],
  ["audit event build / JSON", /audit\/event\.js/],
  ["pipeline.run (all steps of an execution)", /^run .*executor\/pipeline\.js/],
  ["executor (queue, dispatch)", /executor\/executor\.js/],
  ["sandbox (WasmSandbox, pool, main-thread side)", /sandbox\/wasm\//],
  ["postMessage / structured clone", /^postMessage /],
  ["hono routing + middleware", /node_modules\/hono\//],
  ["@hono/node-server (request/response adapters)", /@hono\/node-server/],
  ["zod", /node_modules\/zod\//],
  ["pino (logging)", /node_modules\/(pino|sonic-boom|fast-redact|thread-stream)/],
  ["JSON.stringify", /^stringify /],
  ["JSON.parse", /^parse /],
  ["secret scan", /secrets\/scanner\.js/],
  ["policy", /src\/policy\//],
  ["node http (parser, socket write)", /node:_http|node:net|node:internal\/stream|node:internal\/http/],
  ["garbage collector", /^\(garbage collector\)/],
  ["idle", /^\(idle\)/],
  ["program (native, outside JS)", /^\(program\)/],
];

const file = process.argv[2];
if (!file) throw new Error("usage: cpuprofile-summary.ts <file.cpuprofile> [top]");
const top = Number(process.argv[3] ?? 30);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const label = (node: ProfileNode) => {
  const url = node.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, "$1/");
  return `${node.callFrame.functionName || "(anonymous)"} ${url}:${node.callFrame.lineNumber + 1}`;
};
const frameText = (node: ProfileNode) => `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url}`;

const self = new Map<string, number>();
const inclusive = new Map<string, number>(CATEGORIES.map(([name]) => [name, 0]));
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = (profile.timeDeltas[i] ?? 0) / 1000;
  total += dt;
  const node = byId.get(id);
  if (!node) return;
  self.set(label(node), (self.get(label(node)) ?? 0) + dt);
  const frames: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at);
    if (frame) frames.push(frameText(frame));
  }
  for (const [name, test] of CATEGORIES) {
    if (frames.some((f) => test.test(f))) inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
  }
});

const ms = (v: number) => `${v.toFixed(0).padStart(7)} ms ${((v / total) * 100).toFixed(1).padStart(5)}%`;
process.stdout.write(`total sampled ${total.toFixed(0)} ms\n\ncategories (inclusive):\n`);
for (const [name, v] of inclusive) process.stdout.write(`${ms(v)}  ${name}\n`);
process.stdout.write(`\ntop ${top} by self time:\n`);
for (const [name, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${ms(v)}  ${name}\n`);
}

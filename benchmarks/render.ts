/**
 * Re-renders docs/benchmarks.md from benchmarks/results/latest.json without measuring again
 * (after a change to the rendering): `npx tsx benchmarks/render.ts [results.json] [out.md]`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./lib/dist.js";
import { renderMarkdown } from "./lib/markdown.js";
import type { BenchResults } from "./lib/results.js";

const [
  input = join(REPO_ROOT, "benchmarks", "results", "latest.json"),
  output = join(REPO_ROOT, "docs", "benchmarks.md"),
] = process.argv.slice(2);
const results = JSON.parse(readFileSync(input, "utf8")) as BenchResults;
if (results.version !== 1) throw new Error(`${input}: unknown results version ${String(results.version)}`);
writeFileSync(output, renderMarkdown(results));
process.stderr.write(`wrote ${output}\n`);

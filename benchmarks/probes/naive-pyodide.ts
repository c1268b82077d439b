/**
 * Baseline: Pyodide loaded the naive way, `loadPyodide()` from the npm package (its stdlib ships in
 * the package; nothing is downloaded), in a fresh process, then print(1).
 *
 * Usage: node --import tsx benchmarks/probes/naive-pyodide.ts
 */
import { loadPyodide } from "pyodide";
import { round } from "../lib/stats.js";

const started = performance.now();
const pyodide = await loadPyodide();
const loaded = performance.now();
let stdout = "";
pyodide.setStdout({
  batched: (line: string) => {
    stdout += `${line}\n`;
  },
});
pyodide.runPython("print(1)");
const ran = performance.now();
if (stdout !== "1\n") throw new Error(`pyodide printed ${JSON.stringify(stdout)}`);
process.stdout.write(
  `${JSON.stringify({ loadMs: round(loaded - started), firstRunMs: round(ran - loaded), version: pyodide.version })}\n`,
);
process.exit(0);

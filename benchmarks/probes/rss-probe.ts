/**
 * Child process for the RSS measurement: a WasmSandbox (from dist) with the given languages, worker
 * count and spares per worker (default 1, as SANDBOX_SPARES); every worker runs each language twice
 * (so lazily compiled code is compiled and each worker's spare instances have been used and
 * refilled), then the pool idles for `settleMs` and the process's VmRSS (all threads) is printed as
 * JSON.
 *
 * Usage: node --import tsx benchmarks/probes/rss-probe.ts <root> <languages|none> <workers> <settleMs> [spares]
 */

import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import type { Language } from "../../src/sandbox/types.js";
import { loadDist } from "../lib/dist.js";
import { readRssBytes } from "../lib/proc.js";
import { EXPECTED_STDOUT, printOneRequest } from "../lib/programs.js";

const [root, languageList, workerArg, settleArg, sparesArg = "1"] = process.argv.slice(2);
if (!root || !languageList || !workerArg || !settleArg)
  throw new Error("usage: rss-probe <root> <languages|none> <workers> <settleMs> [spares]");
const languages = (languageList === "none" ? [] : languageList.split(",")) as Language[];
const workers = Number(workerArg);
const spares = Number(sparesArg);

const dist = await loadDist(root);
const sandbox = await dist.wasmSandbox.WasmSandbox.create({
  logger: dist.logger.silentLogger(),
  workers,
  languages,
  // Spares are prepared whatever the host's free memory, so the count is the one asked for.
  runner: { spares, minAvailableMemoryBytes: 0 },
});
const loaded = sandbox.languages().map((l) => l.language);
const missing = languages.filter((l) => !loaded.includes(l));
if (missing.length > 0) {
  const reasons = sandbox.unavailable.map((u) => `${u.language}: ${u.reason}`).join("; ");
  throw new Error(`not loaded: ${reasons}`);
}
for (let round = 0; round < 2; round++) {
  for (const language of languages) {
    const results = await Promise.all(
      Array.from({ length: workers }, () => sandbox.execute(printOneRequest(language), { limits: DEFAULT_LIMITS })),
    );
    const bad = results.find((r) => r.exitCode !== 0 || r.stdout !== EXPECTED_STDOUT);
    if (bad) throw new Error(`${language} run failed: ${JSON.stringify(bad.error ?? bad.stderr)}`);
  }
}
await new Promise((resolve) => setTimeout(resolve, Number(settleArg)));
const rssBytes = readRssBytes("self");
await sandbox[Symbol.asyncDispose]();
process.stdout.write(`${JSON.stringify({ languages, workers, spares, rssBytes })}\n`);
process.exit(0);

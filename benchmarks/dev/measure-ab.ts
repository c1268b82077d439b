/**
 * Warm starts over HTTP of two or more builds, interleaved: every variant's server runs at once, and
 * blocks of `print(1)`-class requests (sequential by default) go to each in turn, round after round
 * (who goes first rotates). This machine's speed drifts by up to 3x within minutes, which swamps
 * a 0.5 ms difference between series run one after the other; blocks a fraction of a second apart
 * see the same phase. Only one server works at a time (a short pause between blocks lets the last one's
 * spare preparation end).
 *
 * `VARIANTS='[{"name":"before","root":"/tmp/wt"},{"name":"after","root":"."}]' npx tsx
 * benchmarks/dev/measure-ab.ts [languages...]` (each root a checkout with `npm run build` done;
 * `"env": {...}` adds server environment). Environment: WARMUP (executions per server and language
 * first, default 1,500: the request path keeps being optimised for thousands), ROUNDS (20), BLOCK
 * (50 requests), CLIENTS (1: sequential; more sends each block that many at a time), GAP_MS (0: each
 * client sends its next request as soon as the answer arrived; more pauses that long first, as an
 * agent's calls come with pauses and the server idles between them), CODE (instead of each
 * language's print(1) program; it must print exactly "1\n"). Prints, per
 * language and variant, the p50/p90 of all its requests and the median executions per second of its
 * blocks, and against the first variant the median of the per-round p50 differences, in how many
 * rounds it was faster and in how many it ran more executions per second.
 * A development tool, not the benchmark harness.
 */
import { join, resolve } from "node:path";
import type { Language } from "../../src/sandbox/types.js";
import { SpawnedServer } from "../lib/server.js";
import { median, percentile, round } from "../lib/stats.js";

interface Variant {
  readonly name: string;
  readonly root: string;
  readonly env?: Readonly<Record<string, string>>;
}

const variants = JSON.parse(process.env.VARIANTS ?? "[]") as Variant[];
if (variants.length < 2) throw new Error('VARIANTS must name at least two builds: [{"name":..,"root":..}, ...]');
const languages = (process.argv.length > 2 ? process.argv.slice(2) : ["javascript", "python"]) as Language[];
const WARMUP = Number(process.env.WARMUP ?? 1_500);
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const BLOCK = Number(process.env.BLOCK ?? 50);
const CLIENTS = Number(process.env.CLIENTS ?? 1);
const GAP_MS = Number(process.env.GAP_MS ?? 0);
const CODE = process.env.CODE;
const PAUSE_MS = 20;

/** BLOCK executions, CLIENTS at a time; their client times (ms). */
async function runBlock(server: SpawnedServer, language: Language, name: string): Promise<number[]> {
  const times: number[] = [];
  let left = BLOCK;
  const client = async () => {
    while (left > 0) {
      left--;
      if (GAP_MS > 0) await new Promise((done) => setTimeout(done, GAP_MS));
      const result = await server.printOne(language, CODE);
      if (!result.ok) throw new Error(`${name} ${language}: ${result.failure ?? "failed"}`);
      times.push(result.ms);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return times;
}

const servers: SpawnedServer[] = [];
try {
  for (const variant of variants) {
    const { server } = await SpawnedServer.start({
      mainScript: join(resolve(variant.root), "dist/src/main.js"),
      logLevel: "info",
      env: variant.env ?? {},
    });
    servers.push(server);
  }
  for (const language of languages) {
    for (const server of servers) for (let i = 0; i < WARMUP; i++) await server.printOne(language, CODE);
    const samples = variants.map((): number[] => []);
    const roundP50s = variants.map((): number[] => []);
    const rates = variants.map((): number[] => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < servers.length; k++) {
        const at = (k + r) % servers.length;
        await new Promise((done) => setTimeout(done, PAUSE_MS));
        const started = performance.now();
        const block = await runBlock(servers[at] as SpawnedServer, language, variants[at]?.name ?? "");
        rates[at]?.push(BLOCK / ((performance.now() - started) / 1000));
        samples[at]?.push(...block);
        roundP50s[at]?.push(median(block));
      }
    }
    const first = roundP50s[0] as number[];
    variants.forEach((variant, i) => {
      const sorted = [...(samples[i] as number[])].sort((a, b) => a - b);
      const line = [
        `${language} ${variant.name}:`,
        `p50 ${round(percentile(sorted, 50))} ms`,
        `p90 ${round(percentile(sorted, 90))} ms`,
        `${round(median(rates[i] as number[]), 1)}/s`,
      ];
      if (i > 0) {
        const differences = (roundP50s[i] as number[]).map((p50, r) => p50 - (first[r] as number));
        const faster = differences.filter((d) => d < 0).length;
        const firstRates = rates[0] as number[];
        const more = (rates[i] as number[]).filter((rate, r) => rate > (firstRates[r] as number)).length;
        line.push(
          `| against ${variants[0]?.name}: ${round(median(differences))} ms (median of rounds), faster in ${faster}/${ROUNDS},`,
          `more executions/s in ${more}/${ROUNDS}`,
        );
      }
      process.stdout.write(`${line.join(" ")}\n`);
    });
  }
} finally {
  for (const server of servers) await server.stop();
}

/**
 * `npm run bench`: measures the built service (dist/) on this machine in one run and writes
 * docs/benchmarks.md and benchmarks/results/latest.json. See benchmarks/README.md.
 *
 * Order: the baselines, the cold starts, then one server for the warm HTTP and throughput runs, a
 * second one (`SANDBOX_STORE_SYNC=normal`) for the warm HTTP runs again, then the in-process pool and
 * the RSS probes; each phase runs alone (nothing of the previous one is left).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { type BenchConfig, BenchConfigError, loadBenchConfig, wants } from "./lib/config.js";
import { type Dist, loadDist, REPO_ROOT } from "./lib/dist.js";
import { formatJson } from "./lib/json-format.js";
import { renderMarkdown } from "./lib/markdown.js";
import { measurePauseProbe } from "./lib/pause-probe.js";
import { readCpuTimes, stolenShare } from "./lib/proc.js";
import { type Progress, stderrProgress } from "./lib/progress.js";
import { type BenchResults, isUnavailable, type Machine, unavailable } from "./lib/results.js";
import { SpawnedServer } from "./lib/server.js";
import { checkTargets } from "./lib/targets.js";
import { measureBaselines } from "./sections/baselines.js";
import { measureColdStart } from "./sections/cold-start.js";
import { measureRss } from "./sections/rss.js";
import { measureThroughput } from "./sections/throughput.js";
import { measureWarmHttp, measureWarmInProcess } from "./sections/warm.js";

type Draft = { -readonly [K in keyof Omit<BenchResults, "targets">]: Omit<BenchResults, "targets">[K] };

function git(root: string): BenchResults["git"] {
  try {
    const run = (args: string[]) =>
      execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const commit = run(["rev-parse", "HEAD"]).trim();
    const status = run(["status", "--porcelain"]);
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: "unknown", dirty: true };
  }
}

function machine(): Machine {
  return {
    node: process.version,
    platform: process.platform,
    kernel: release(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memoryBytes: totalmem(),
    loadAverageStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** Warm HTTP and throughput against one server; its idle RSS afterwards. */
async function serverSections(dist: Dist, config: BenchConfig, draft: Draft, progress: Progress): Promise<number> {
  const { server, readyMs } = await SpawnedServer.start({
    mainScript: dist.mainScript,
    logLevel: config.serverLogLevel,
    ...(config.workers === undefined ? {} : { workers: config.workers }),
  });
  progress(`server ready in ${readyMs.toFixed(0)} ms at ${server.url} (log: ${server.logPath})`);
  try {
    const { available, unavailable: missing } = await server.wasmLanguages();
    draft.serverLanguages = Object.fromEntries([
      ...[...available].map(([l, runtime]) => [l, runtime]),
      ...[...missing].map(([l, reason]) => [l, `unavailable: ${reason}`]),
    ]);
    for (const [language, reason] of missing) progress(`server: wasm ${language} unavailable: ${reason}`);
    if (wants(config, "warm")) {
      const { early, steady, backToBack } = await measureWarmHttp(server, config, progress);
      draft.warm = {
        http: steady,
        httpPauseMs: config.gapMs,
        ...(backToBack ? { httpBackToBack: backToBack } : {}),
        httpEarly: early,
        inProcess: {},
      };
    }
    if (wants(config, "throughput")) draft.throughput = await measureThroughput(server, config, progress);
    await new Promise((resolve) => setTimeout(resolve, config.rssSettleMs));
    return server.rssBytes();
  } finally {
    await server.stop();
  }
}

/**
 * The warm HTTP series again, against a second server whose store commits without an fsync each
 * (`SANDBOX_STORE_SYNC=normal`): next to the default's numbers it shows what durability costs.
 */
async function storeSyncNormalSection(dist: Dist, config: BenchConfig, progress: Progress) {
  const { server, readyMs } = await SpawnedServer.start({
    mainScript: dist.mainScript,
    logLevel: config.serverLogLevel,
    env: { SANDBOX_STORE_SYNC: "normal" },
    ...(config.workers === undefined ? {} : { workers: config.workers }),
  });
  progress(`server with SANDBOX_STORE_SYNC=normal ready in ${readyMs.toFixed(0)} ms`);
  try {
    return (await measureWarmHttp(server, config, (line) => progress(`store sync normal: ${line}`))).steady;
  } finally {
    await server.stop();
  }
}

/**
 * Runs one phase of the benchmark and records in `stolen` the share of the machine's CPU time the
 * hypervisor took meanwhile (see Machine.stolenCpuShare).
 */
async function phase<T>(
  name: string,
  stolen: Record<string, number>,
  progress: Progress,
  fn: () => Promise<T>,
): Promise<T> {
  const before = readCpuTimes();
  try {
    return await fn();
  } finally {
    const after = readCpuTimes();
    const share = before && after ? stolenShare(before, after) : undefined;
    if (share !== undefined) {
      stolen[name] = share;
      progress(`${name}: ${(share * 100).toFixed(1)}% of the CPU time was stolen by the hypervisor`);
    }
  }
}

async function main(): Promise<void> {
  let config: BenchConfig;
  try {
    config = loadBenchConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof BenchConfigError) {
      process.stderr.write(`bench: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const started = performance.now();
  const progress = stderrProgress(started);
  const dist = await loadDist(config.root ?? REPO_ROOT);
  const draft: Draft = {
    version: 1,
    generatedAt: new Date().toISOString(),
    git: git(dist.root),
    machine: machine(),
    config: { ...config },
  };
  progress(`benchmarking ${dist.root}/dist (${draft.git.commit.slice(0, 12)}${draft.git.dirty ? ", dirty" : ""})`);

  // Baselines first: spawning short-lived processes is what suffers most from a busy machine and a
  // large parent, and at this point the benchmark process is still small.
  const stolen: Record<string, number> = {};
  if (wants(config, "baselines")) {
    draft.baselines = await phase("baselines", stolen, progress, () => measureBaselines(dist, config, progress));
  }
  if (wants(config, "cold")) {
    draft.coldStart = await phase("cold start", stolen, progress, () => measureColdStart(dist, config, progress));
  }
  let serverIdleRss: number | undefined;
  if (wants(config, "warm") || wants(config, "throughput")) {
    try {
      serverIdleRss = await phase("server (warm HTTP, throughput)", stolen, progress, () =>
        serverSections(dist, config, draft, progress),
      );
    } catch (error) {
      // The server did not start or died: every HTTP measurement is unavailable, with the reason.
      progress(`server sections failed: ${error instanceof Error ? error.message : String(error)}`);
      const failed = Object.fromEntries(config.languages.map((l) => [l, unavailable(error)]));
      if (wants(config, "warm")) draft.warm = { http: failed, inProcess: {} };
      if (wants(config, "throughput")) draft.throughput = failed;
    }
  }
  if (wants(config, "warm") && config.gapMs > 0) {
    // Right after the warm series, so it sees the same phase of the machine.
    const pauseProbe = await phase("pause probe", stolen, progress, () =>
      measurePauseProbe({ pauseMs: config.gapMs, samples: config.samples, warmup: config.warmup * 30 }),
    );
    if (!isUnavailable(pauseProbe)) {
      progress(
        `pause probe: ${pauseProbe.backToBackP50Ms} ms back-to-back, ${pauseProbe.pausedP50Ms} ms after ${pauseProbe.pauseMs} ms pauses`,
      );
    }
    draft.machine = { ...draft.machine, pauseProbe };
  }
  if (wants(config, "warm") && draft.warm) {
    try {
      const httpStoreSyncNormal = await phase("server with sync normal", stolen, progress, () =>
        storeSyncNormalSection(dist, config, progress),
      );
      draft.warm = { ...draft.warm, httpStoreSyncNormal };
    } catch (error) {
      progress(`store sync normal section failed: ${error instanceof Error ? error.message : String(error)}`);
      const failed = Object.fromEntries(config.languages.map((l) => [l, unavailable(error)]));
      draft.warm = { ...draft.warm, httpStoreSyncNormal: failed };
    }
  }
  if (wants(config, "warm") || wants(config, "throughput")) {
    const inProcess = await phase("in-process", stolen, progress, () => measureWarmInProcess(dist, config, progress));
    if (wants(config, "throughput")) draft.throughputInProcess = inProcess.throughput;
    if (wants(config, "warm")) {
      draft.warm = {
        ...(draft.warm ?? { http: {} }),
        inProcess: inProcess.backToBack,
        ...(config.gapMs > 0 ? { inProcessGapped: inProcess.gapped } : {}),
      };
    }
  }
  if (wants(config, "rss")) {
    try {
      const rss = await phase("rss", stolen, progress, () => measureRss(dist, config, progress));
      draft.rss =
        serverIdleRss === undefined
          ? rss
          : { ...rss, serverIdleRssBytes: serverIdleRss, ...(config.workers ? { serverWorkers: config.workers } : {}) };
    } catch (error) {
      draft.rss = unavailable(error);
    }
  }

  draft.machine = {
    ...draft.machine,
    loadAverageEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    ...(Object.keys(stolen).length > 0 ? { stolenCpuShare: stolen } : {}),
  };
  draft.durationMs = Math.round(performance.now() - started);
  const results: BenchResults = { ...draft, targets: checkTargets(draft) };

  const jsonPath = join(config.out ?? join(REPO_ROOT, "benchmarks", "results"), "latest.json");
  const markdownPath = join(config.out ?? join(REPO_ROOT, "docs"), "benchmarks.md");
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, formatJson(results));
  writeFileSync(markdownPath, renderMarkdown(results));
  progress(`wrote ${markdownPath} and ${jsonPath}`);
  for (const target of results.targets) {
    const status = target.met === true ? "met" : target.met === false ? "MISSED" : "n/a";
    process.stdout.write(
      `${status.padEnd(7)} ${target.description}: ${target.measured} (${target.goal}) ${target.met === true ? "" : target.verdict}\n`,
    );
  }
}

await main();

/**
 * Builds the sandboxes a server runs from its configuration. The wasm sandbox always (started: it
 * returns while its languages still load, each usable as soon as it loaded); the process
 * sandbox unless disabled (started too: it probes bubblewrap and the interpreters in the background,
 * and reports itself unavailable when bubblewrap cannot run here); the noop
 * sandbox only behind its explicit dangerous flag, loudly.
 */
import { PROCESS_RUNTIMES } from "../../runtimes/process-runtimes.js";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { NoopSandbox } from "./noop/noop-sandbox.js";
import { DEFAULT_ALLOWED_TOOLS } from "./process/host-binaries.js";
import { ProcessSandbox } from "./process/process-sandbox.js";
import { SandboxRegistry } from "./registry.js";
import type { Sandbox } from "./types.js";
import type { RuntimeLoader } from "./wasm/load-runtime.js";
import { WasmSandbox } from "./wasm/wasm-sandbox.js";

export interface CreateSandboxesOptions {
  /** The wasm sandbox's runtime loader, started early (main.ts); default: the sandbox starts one. */
  readonly loader?: RuntimeLoader;
}

export async function createSandboxes(
  config: Config,
  logger: Logger,
  options: CreateSandboxesOptions = {},
): Promise<SandboxRegistry> {
  const sandboxes: Sandbox[] = [];
  const wasm = await WasmSandbox.start({
    ...(options.loader ? { loader: options.loader } : {}),
    workers: config.workers,
    languages: config.wasmLanguages,
    maxQueue: config.maxQueue,
    maxWorkerHeapMb: config.maxWorkerHeapMb,
    maxParkedWorkers: config.maxWaitingEffects,
    runner: { spares: config.spares, minAvailableMemoryBytes: config.spareMinAvailableBytes },
    ...(config.snapshotCacheDir === undefined ? {} : { snapshotCacheDir: config.snapshotCacheDir }),
    logger: logger.child({ sandbox: "wasm" }),
  });
  sandboxes.push(wasm);
  if (config.processSandbox) {
    // Probes in the background (or when a process execution asks): the server serves meanwhile
    // (its languages are `loading`). ~0.3 s of CPU spawning bwrap and four interpreters, and each
    // spawn blocks the event loop while it forks the server: so not before the wasm languages
    // loaded, and then only once no wasm execution ran for a moment. Started as the last language
    // was announced, they ran beside the request sent for it (measured, Bash's cold start: its
    // first execution 57-151 ms over HTTP, the event loop ~50 ms inside spawn; 42-53 ms without
    // the probes).
    const processSandbox = ProcessSandbox.start(
      { runtimes: PROCESS_RUNTIMES, allowedTools: [...DEFAULT_ALLOWED_TOOLS, ...config.processBinaries] },
      wasm.quietAfterLoads(),
    );
    void processSandbox.loaded().then(() => {
      const availability = processSandbox.availability();
      if (!availability.available) {
        logger.warn({ sandbox: "process", reason: availability.reason }, "process sandbox unavailable on this host");
      }
    });
    sandboxes.push(processSandbox);
  }
  if (config.dangerouslyEnableNoopSandbox) {
    logger.warn(
      { sandbox: "noop" },
      "DANGER: the noop sandbox is enabled. Requests with sandbox=noop run code with NO isolation. Never do this on a server reachable by untrusted clients.",
    );
    sandboxes.push(await NoopSandbox.create({ runtimes: PROCESS_RUNTIMES, logger: logger.child({ sandbox: "noop" }) }));
  }
  return new SandboxRegistry(sandboxes);
}

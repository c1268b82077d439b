/**
 * Starts one of this folder's worker entries. Production runs the compiled JavaScript; under a
 * TypeScript loader (tests, `tsx`) the worker is bootstrapped through tsx so it loads the same sources.
 */
import { Worker, type WorkerOptions } from "node:worker_threads";

/** This folder's worker entries (each is also bundled by the build: src/build/bundle-dist.ts). */
export const WORKER_ENTRIES = ["worker", "loader"] as const;

export function spawnWorker(entry: (typeof WORKER_ENTRIES)[number], options: WorkerOptions = {}): Worker {
  if (import.meta.url.endsWith(".js")) return new Worker(new URL(`./${entry}.js`, import.meta.url), options);
  const tsx = import.meta.resolve("tsx/esm/api");
  const source = new URL(`./${entry}.ts`, import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

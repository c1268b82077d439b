/** Loads a language runtime in a short-lived loader worker (see loader.ts). */
import type { Language, RuntimeInfo } from "../types.js";
import type { BootCacheLogRecord } from "./boot-cache.js";
import type { RuntimeAssets } from "./runtime.js";
import { spawnWorker } from "./spawn-worker.js";

/** What the loader worker is asked to do. */
export interface LoaderRequest {
  readonly language: Language;
  /** The snapshot cache's directory (boot-cache.ts); undefined: every boot runs afresh. */
  readonly snapshotCacheDir?: string;
}

export type LoaderReply = (
  | { readonly ok: true; readonly assets: RuntimeAssets; readonly info: RuntimeInfo }
  | { readonly ok: false; readonly reason: string }
) & {
  /** What the snapshot cache did during this load, for the server's log. */
  readonly bootCacheLog?: readonly BootCacheLogRecord[];
};

/** A load that takes longer fails: the language is then unavailable rather than loading forever. */
export const DEFAULT_LOAD_TIMEOUT_MS = 180_000;

export interface LoadRuntimeOptions {
  /** Aborting terminates the loader (the sandbox is shutting down). */
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** See LoaderRequest. */
  readonly snapshotCacheDir?: string;
}

export async function loadRuntime(language: Language, options: LoadRuntimeOptions = {}): Promise<LoaderReply> {
  const { signal } = options;
  if (signal?.aborted) return { ok: false, reason: "the wasm sandbox shut down while loading" };
  const worker = spawnWorker("loader");
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  try {
    return await new Promise<LoaderReply>((resolve) => {
      const timeoutMs = options.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
      timer = setTimeout(() => resolve({ ok: false, reason: `loading took longer than ${timeoutMs} ms` }), timeoutMs);
      onAbort = () => resolve({ ok: false, reason: "the wasm sandbox shut down while loading" });
      signal?.addEventListener("abort", onAbort, { once: true });
      worker.once("message", (reply: LoaderReply) => resolve(reply));
      worker.once("error", (error) => resolve({ ok: false, reason: `runtime loader failed: ${error.message}` }));
      worker.once("exit", (code) => resolve({ ok: false, reason: `runtime loader exited with code ${code}` }));
      const request: LoaderRequest =
        options.snapshotCacheDir === undefined
          ? { language }
          : { language, snapshotCacheDir: options.snapshotCacheDir };
      worker.postMessage(request);
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    await worker.terminate();
  }
}

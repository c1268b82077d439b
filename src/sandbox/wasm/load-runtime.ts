/** Loads language runtimes in one short-lived loader worker (see loader.ts). */
import type { Worker } from "node:worker_threads";
import type { Language, RuntimeInfo } from "../types.js";
import type { BootCacheLogRecord } from "./boot-cache.js";
import type { RuntimeAssets } from "./runtime.js";
import { spawnWorker } from "./spawn-worker.js";

/** How the loader worker is set up: its first message (RuntimeLoader.configure). */
export interface LoaderData {
  /** The snapshot cache's directory (boot-cache.ts); undefined: every boot runs afresh. */
  readonly snapshotCacheDir?: string;
  /** Boot processes running at once (boot-process.ts limitBootProcesses); undefined: no limit. */
  readonly bootConcurrency?: number;
}

/** What the loader worker is asked to do: load one language. */
export interface LoaderRequest {
  readonly kind: "load";
  readonly id: number;
  readonly language: Language;
}

/** What the loader worker receives: its setup once, before any load, then loads. */
export type LoaderInbound = { readonly kind: "configure"; readonly data: LoaderData } | LoaderRequest;

export type LoaderReply = (
  | { readonly ok: true; readonly assets: RuntimeAssets; readonly info: RuntimeInfo }
  | { readonly ok: false; readonly reason: string }
) & {
  /** What the snapshot cache did during this load, for the server's log. */
  readonly bootCacheLog?: readonly BootCacheLogRecord[];
};

/** What the loader worker posts back: the reply to request `id`. */
export interface LoaderMessage {
  readonly id: number;
  readonly reply: LoaderReply;
}

/** A load that takes longer fails: the language is then unavailable rather than loading forever. */
export const DEFAULT_LOAD_TIMEOUT_MS = 180_000;

export interface LoadRuntimeOptions {
  /** Aborting ends this load (the sandbox is shutting down). */
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/**
 * One loader worker, started by start() or at the first load; every load is a request to it and
 * they run there concurrently. Its setup (LoaderData) is its first message: configure(), or the
 * constructor's data at the first load. start() before configure() lets the thread start while the
 * caller still reads its configuration (main.ts: the thread's start and imports, ~0.1-0.2 s, then
 * overlap the server's own imports instead of delaying every boot). close() terminates it once the
 * loads in progress replied (each reply is whole: a load's snapshot cache writes are settled before
 * it replies); dispose() at once.
 */
export class RuntimeLoader implements AsyncDisposable {
  private worker: Worker | undefined;
  private nextId = 0;
  private closing = false;
  private configured = false;
  /** Why the worker ended (an error, or an exit nobody asked for): later loads fail at once with it. */
  private ended: string | undefined;
  private readonly pending = new Map<number, (reply: LoaderReply) => void>();

  constructor(private data: LoaderData = {}) {}

  /** Starts the worker thread now, if not yet started. */
  start(): this {
    this.started();
    return this;
  }

  /** Sets the worker's setup; once, before the first load (a load without it uses the constructor's). */
  configure(data: LoaderData): void {
    if (this.configured) throw new Error("the runtime loader is already configured");
    this.data = data;
    this.configured = true;
    this.worker?.postMessage({ kind: "configure", data } satisfies LoaderInbound);
  }

  load(language: Language, options: LoadRuntimeOptions = {}): Promise<LoaderReply> {
    const { signal } = options;
    if (signal?.aborted || this.closing) {
      return Promise.resolve({ ok: false, reason: "the wasm sandbox shut down while loading" });
    }
    if (this.ended !== undefined) return Promise.resolve({ ok: false, reason: this.ended });
    if (!this.configured) this.configure(this.data);
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<LoaderReply>((resolve) => {
      const timeoutMs = options.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
      const timer = setTimeout(
        () => settle({ ok: false, reason: `loading took longer than ${timeoutMs} ms` }),
        timeoutMs,
      );
      const onAbort = () => settle({ ok: false, reason: "the wasm sandbox shut down while loading" });
      const settle = (reply: LoaderReply) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(reply);
        if (this.closing && this.pending.size === 0) void this.terminate();
      };
      this.pending.set(id, settle);
      signal?.addEventListener("abort", onAbort, { once: true });
      worker.postMessage({ kind: "load", id, language } satisfies LoaderInbound);
    });
  }

  /** No more loads: the worker ends once those in progress replied. */
  close(): void {
    this.closing = true;
    if (this.pending.size === 0) void this.terminate();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.closing = true;
    this.failAll("the wasm sandbox shut down while loading");
    await this.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnWorker("loader");
    worker.on("message", ({ id, reply }: LoaderMessage) => this.pending.get(id)?.(reply));
    worker.once("error", (error) => this.end(`runtime loader failed: ${error.message}`));
    worker.once("exit", (code) => this.end(`runtime loader exited with code ${code}`));
    this.worker = worker;
    if (this.configured) worker.postMessage({ kind: "configure", data: this.data } satisfies LoaderInbound);
    return worker;
  }

  /** The worker is gone (started early, it may end before any load was asked for). */
  private end(reason: string): void {
    this.ended ??= reason;
    this.failAll(reason);
  }

  private failAll(reason: string): void {
    for (const settle of [...this.pending.values()]) settle({ ok: false, reason });
  }

  private async terminate(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await worker.terminate();
  }
}

/** Loads one language in a loader worker of its own (tests; the sandbox shares one RuntimeLoader). */
export async function loadRuntime(
  language: Language,
  options: LoadRuntimeOptions & LoaderData = {},
): Promise<LoaderReply> {
  const loader = new RuntimeLoader(
    options.snapshotCacheDir === undefined ? {} : { snapshotCacheDir: options.snapshotCacheDir },
  );
  try {
    return await loader.load(language, options);
  } finally {
    await loader[Symbol.asyncDispose]();
  }
}

/** Loads a language runtime in a short-lived loader worker (see loader.ts). */
import type { Language, RuntimeInfo } from "../types.js";
import type { RuntimeAssets } from "./runtime.js";
import { spawnWorker } from "./spawn-worker.js";

export type LoaderReply =
  | { readonly ok: true; readonly assets: RuntimeAssets; readonly info: RuntimeInfo }
  | { readonly ok: false; readonly reason: string };

export async function loadRuntime(language: Language): Promise<LoaderReply> {
  const worker = spawnWorker("loader");
  try {
    return await new Promise<LoaderReply>((resolve) => {
      worker.once("message", (reply: LoaderReply) => resolve(reply));
      worker.once("error", (error) => resolve({ ok: false, reason: `runtime loader failed: ${error.message}` }));
      worker.once("exit", (code) => resolve({ ok: false, reason: `runtime loader exited with code ${code}` }));
      worker.postMessage({ language });
    });
  } finally {
    await worker.terminate();
  }
}

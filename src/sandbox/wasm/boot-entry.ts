/**
 * Child-process entry of boot-process.ts: receives a BootRequest over IPC, takes the parent's argv,
 * imports the named module (one of ours), calls the named export and sends back its result (or why
 * it failed); the result's large byte arrays go through the file the request names (boot-spill.ts).
 * The parent may then send the next boot (boot-process.ts keeps a child that finished one); the
 * child exits when the parent disconnects (its thread ended) or kills it.
 */
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import type { BootReply, BootRequest } from "./boot-process.js";
import { spillLargeBytes } from "./boot-spill.js";

/** The directory of the last boot's spill file: the parent removes it once read; see leave(). */
let spillDir: string | undefined;

process.on("message", (entry: BootRequest) => {
  process.argv.splice(0, process.argv.length, ...entry.argv);
  if (entry.spillFile !== undefined) spillDir = dirname(entry.spillFile);
  void boot(entry).then((reply) => {
    // A parent that went away during the boot gets no reply: sending would throw (an uncaught
    // error that skips leave() and leaves the spill file behind).
    if (!process.connected || !process.send) return leave();
    process.send(reply, undefined, {}, (error) => {
      if (error) leave();
    });
  });
});

/**
 * Exits, removing the last spill directory first: when the parent's thread ended or the service is
 * being stopped (SIGTERM to the whole group, as systemd does) before it read a reply, nobody else
 * would (20-50 MB in the temp directory per boot). A directory the parent already removed is fine.
 */
function leave(): never {
  if (spillDir !== undefined) {
    try {
      rmSync(spillDir, { recursive: true, force: true });
    } catch {
      // Exiting anyway; the loader's start-up sweep (boot-process.ts) removes what is left.
    }
  }
  process.exit(0);
}
process.on("disconnect", leave);
process.on("SIGTERM", leave);

async function boot(entry: BootRequest): Promise<BootReply<unknown>> {
  try {
    const loaded = (await import(entry.module)) as Record<string, unknown>;
    const fn = loaded[entry.export];
    if (typeof fn !== "function") throw new Error(`${entry.module} exports no function ${entry.export}`);
    const value = await (fn as (...args: unknown[]) => Promise<unknown>)(...(entry.args ?? []));
    return { ok: true, value: entry.spillFile === undefined ? value : spillLargeBytes(value, entry.spillFile) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

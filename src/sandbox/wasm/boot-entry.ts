/**
 * Child-process entry of boot-process.ts: receives a BootRequest over IPC, takes the parent's argv,
 * imports the named module (one of ours), calls the named export and sends back its result (or why
 * it failed); the result's large byte arrays go through the file the request names (boot-spill.ts).
 * The parent may then send the next boot (boot-process.ts keeps a child that finished one); the
 * child exits when the parent disconnects (its thread ended) or kills it.
 */
import type { BootReply, BootRequest } from "./boot-process.js";
import { spillLargeBytes } from "./boot-spill.js";

process.on("message", (entry: BootRequest) => {
  process.argv.splice(0, process.argv.length, ...entry.argv);
  void boot(entry).then((reply) => {
    process.send?.(reply);
  });
});
process.on("disconnect", () => process.exit(0));

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

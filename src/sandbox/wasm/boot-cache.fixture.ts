/**
 * For boot-cache.test.ts: one process of the concurrent-writers test. Writes the same key `rounds`
 * times into the cache at argv[2] (each write a full temp-file + rename), reading it back between
 * writes, and prints a JSON summary: reads that hit, and every warning the cache logged.
 */
import { pathToFileURL } from "node:url";
import { BootCache, type BootCacheLogRecord } from "./boot-cache.js";
import type { BootKey } from "./boot-cache-key.js";

/** The value both writers store: large enough that a write takes many syscalls. */
export function concurrentValue(): { label: string; bytes: Uint8Array; indexes: Uint32Array } {
  const bytes = new Uint8Array(8 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  return { label: "concurrent", bytes, indexes: new Uint32Array([1, 2, 3]) };
}

/** A fixed key: this test is about the storage, and both writers must agree on the key. */
export const CONCURRENT_KEY: BootKey = {
  entryId: "0123456789abcdef",
  digest: "c".repeat(64),
  parts: { entry: "boot-cache.fixture.ts#concurrentValue" },
};

async function main(dir: string, rounds: number): Promise<void> {
  const warnings: BootCacheLogRecord[] = [];
  const cache = await BootCache.open(dir, (record) => {
    if (record.level === "warn") warnings.push(record);
  });
  if (!cache) throw new Error("the cache did not open");
  const key = CONCURRENT_KEY;
  const value = concurrentValue();
  let hits = 0;
  for (let i = 0; i < rounds; i++) {
    await cache.write(key, value);
    const read = await cache.read(key);
    if (read.found) hits++;
  }
  process.stdout.write(`${JSON.stringify({ hits, warnings })}\n`);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) await main(process.argv[2] ?? "", Number(process.argv[3] ?? "5"));

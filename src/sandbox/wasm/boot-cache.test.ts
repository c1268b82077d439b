import { spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CONCURRENT_KEY, concurrentValue } from "./boot-cache.fixture.js";
import { BootCache, type BootCacheLogRecord, configureBootCache, settleBootCacheWrites } from "./boot-cache.js";
import { type BootKeyInput, bootCacheKey } from "./boot-cache-key.js";
import { runBootProcess } from "./boot-process.js";

const FIXTURE = new URL("./boot-process.fixture.ts", import.meta.url).href;
const input = (args: readonly unknown[] = ["hello"]): BootKeyInput => ({
  module: FIXTURE,
  export: "describeBoot",
  args,
  argv: ["node", "main.js"],
  childArgs: ["--liftoff-only"],
});
const value = () => ({ label: "booted", data: new Uint8Array([1, 2, 3]), indexes: new Uint32Array([4, 5]) });

let root: string;
let dir: string;
let log: BootCacheLogRecord[];
const record = (entry: BootCacheLogRecord) => log.push(entry);
const warnings = () => log.filter((r) => r.level === "warn");
const binFiles = () => readdirSync(dir).filter((name) => name.endsWith(".bin"));

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "boot-cache-test-"));
  dir = join(root, "cache");
  log = [];
});
afterEach(() => {
  configureBootCache(undefined, () => undefined);
  rmSync(root, { recursive: true, force: true });
});

async function openCache(): Promise<BootCache> {
  const cache = await BootCache.open(dir, record);
  if (!cache) throw new Error(`the cache did not open: ${JSON.stringify(log)}`);
  return cache;
}

/** `through` with a boot that counts its calls. */
async function through(cache: BootCache, keyInput: BootKeyInput) {
  let boots = 0;
  const result = await cache.through(keyInput, async () => {
    boots++;
    return value();
  });
  await cache.flush();
  return { result, boots };
}

describe("BootCache", () => {
  it("creates its directory 0700 and stores a boot as one 0600 file", async () => {
    const cache = await openCache();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const { result, boots } = await through(cache, input());
    expect(boots).toBe(1);
    expect(result).toEqual(value());
    const files = binFiles();
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0] ?? "")).mode & 0o777).toBe(0o600);
    expect(log.map((r) => r.msg)).toEqual(["snapshot cache miss", "snapshot cache stored"]);
  });

  it("serves the stored result after a restart without booting", async () => {
    await through(await openCache(), input());
    log = [];
    const { result, boots } = await through(await openCache(), input());
    expect(boots).toBe(0);
    expect(result).toEqual(value());
    const typed = result as ReturnType<typeof value>;
    expect(typed.data).toBeInstanceOf(Uint8Array);
    expect(typed.indexes).toBeInstanceOf(Uint32Array);
    // Read into shared memory: runBootProcess hands these to the workers without copying them.
    expect(typed.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(log.map((r) => r.msg)).toEqual(["snapshot cache hit"]);
  });

  it("misses when a part of the key changes, and removes the entry's old file", async () => {
    const cache = await openCache();
    await through(cache, input(["hello"]));
    const [first] = binFiles();
    const changed = await through(cache, input(["other sources"]));
    expect(changed.boots).toBe(1);
    expect(binFiles()).toHaveLength(1);
    expect(binFiles()[0]).not.toBe(first);
    const argvChanged = await through(cache, { ...input(["other sources"]), argv: ["node", "other.js"] });
    expect(argvChanged.boots).toBe(1);
  });

  it("keys on versions, entry, args, argv, child flags and the code", async () => {
    const key = await bootCacheKey(input());
    expect(Object.keys(key.parts).sort()).toEqual(
      [
        "format",
        "node",
        "v8",
        "platform",
        "arch",
        "endianness",
        "entry",
        "args",
        "argv",
        "childArgs",
        "execArgv",
        "entryModule",
        "code",
        "packages",
      ].sort(),
    );
    expect(key.parts.entry).toBe("src/sandbox/wasm/boot-process.fixture.ts#describeBoot");
    const other = async (change: Partial<BootKeyInput>) => (await bootCacheKey({ ...input(), ...change })).digest;
    const digests = new Set([
      key.digest,
      await other({ args: ["x"] }),
      await other({ argv: ["node", "x"] }),
      await other({ childArgs: [] }),
      await other({ export: "failBoot" }),
    ]);
    expect(digests.size).toBe(5);
    expect((await bootCacheKey(input())).digest).toBe(key.digest);
  });

  it("treats a corrupted file as a miss: deleted, logged, rebuilt", async () => {
    const cache = await openCache();
    await through(cache, input());
    const file = join(dir, binFiles()[0] ?? "");
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    writeFileSync(file, bytes, { mode: 0o600 });
    log = [];
    const again = await through(cache, input());
    expect(again.boots).toBe(1);
    expect(again.result).toEqual(value());
    expect(warnings().map((r) => r.fields.reason)).toEqual(["corrupt: digest mismatch"]);
    expect((await through(cache, input())).boots).toBe(0);
  });

  it("treats a torn (truncated) file as a miss", async () => {
    const cache = await openCache();
    await through(cache, input());
    const file = join(dir, binFiles()[0] ?? "");
    writeFileSync(file, readFileSync(file).subarray(0, 20), { mode: 0o600 });
    log = [];
    expect((await through(cache, input())).boots).toBe(1);
    expect(warnings().map((r) => r.fields.reason)).toEqual(["corrupt: bad header"]);
  });

  it("refuses a file readable by others in its directory", async () => {
    const cache = await openCache();
    await through(cache, input());
    chmodSync(join(dir, binFiles()[0] ?? ""), 0o644);
    log = [];
    expect((await through(cache, input())).boots).toBe(1);
    expect(String(warnings()[0]?.fields.reason)).toMatch(/^unsafe file/);
  });

  it("refuses a group- or world-writable directory, with a warning", async () => {
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o777);
    expect(await BootCache.open(dir, record)).toBeUndefined();
    expect(warnings()[0]?.msg).toBe("snapshot cache disabled: its directory is unusable");
    expect(String(warnings()[0]?.fields.reason)).toMatch(/writable by group or others/);
    chmodSync(dir, 0o770);
    expect(await BootCache.open(dir, record)).toBeUndefined();
  });

  it("refuses a symbolic link and a path that is not a directory", async () => {
    mkdirSync(dir, { mode: 0o700 });
    const link = join(root, "link");
    symlinkSync(dir, link);
    expect(await BootCache.open(link, record)).toBeUndefined();
    const file = join(root, "file");
    writeFileSync(file, "");
    expect(await BootCache.open(file, record)).toBeUndefined();
    expect(warnings()).toHaveLength(2);
  });

  it.skipIf(process.getuid?.() !== 0)("refuses a directory owned by another user (needs root to set up)", async () => {
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    expect(await BootCache.open(dir, record)).toBeUndefined();
    expect(String(warnings()[0]?.fields.reason)).toMatch(/owned by uid 65534/);
  });

  it("keeps booting when the configured directory is unusable: no cache, never a crash", async () => {
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o777);
    configureBootCache(dir, record);
    const result = await runBootProcess<{ label: string }>({ module: FIXTURE, export: "describeBoot", args: ["x"] });
    expect(result.label).toBe("x");
    expect(readdirSync(dir)).toEqual([]);
    expect(warnings()).toHaveLength(1);
  }, 30_000);

  it("runBootProcess with the cache configured boots once, then serves the file", async () => {
    configureBootCache(dir, record);
    const entry = { module: FIXTURE, export: "describeBoot", args: ["cached"] };
    const first = await runBootProcess<{ label: string; bytes: Uint8Array }>(entry);
    // The write runs in the background; the loader waits for it like this before it replies.
    await settleBootCacheWrites();
    expect(binFiles()).toHaveLength(1);
    log = [];
    const second = await runBootProcess<{ label: string; bytes: Uint8Array }>(entry);
    expect(second).toEqual(first);
    expect(log.map((r) => r.msg)).toEqual(["snapshot cache hit"]);
  }, 30_000);

  it("two processes writing the same entry at once leave one whole, valid file", async () => {
    mkdirSync(dir, { mode: 0o700 });
    const fixture = fileURLToPath(new URL("./boot-cache.fixture.ts", import.meta.url));
    const writer = () =>
      new Promise<{ hits: number; warnings: BootCacheLogRecord[] }>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", fixture, dir, "6"], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.stderr.on("data", (chunk: Buffer) => {
          err += chunk.toString();
        });
        child.once("exit", (code) =>
          code === 0 ? resolve(JSON.parse(out.trim()) as never) : reject(new Error(`writer exited ${code}: ${err}`)),
        );
      });
    const results = await Promise.all([writer(), writer()]);
    for (const result of results) {
      expect(result.warnings).toEqual([]);
      expect(result.hits).toBe(6);
    }
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    expect(binFiles()).toHaveLength(1);
    const read = await (await openCache()).read(CONCURRENT_KEY);
    expect(read.found).toBe(true);
    const stored = (read as { value: ReturnType<typeof concurrentValue> }).value;
    const expected = concurrentValue();
    // Compared as buffers: a deep equality of 8 MiB element by element takes minutes.
    expect(Buffer.from(stored.bytes).equals(Buffer.from(expected.bytes))).toBe(true);
    expect([...stored.indexes]).toEqual([...expected.indexes]);
    expect(warnings()).toEqual([]);
  }, 60_000);
});

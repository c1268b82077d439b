/**
 * Opt-in on-disk cache of boot results (SANDBOX_SNAPSHOT_CACHE_DIR): runBootProcess looks a boot up
 * by its key (boot-cache-key.ts) before it spawns the boot process, and stores what a boot returned
 * for the next process start. Off by default: every process start then boots afresh and its
 * interpreters get their own string-hash seeds (the trade-off: docs/runtimes.md#snapshot-cache-opt-in).
 *
 * Files: `<dir>/boot-<entry id>-<key digest>.bin` = MAGIC, sha256(body), body = v8.serialize of
 * { key, parts, createdAt, value }. Written to a temp file (0600), fsynced, renamed over the final
 * name (atomic: a reader sees the old file or the new one, whole), then the directory is fsynced.
 * Two processes booting at once each write their own temp file; the last rename wins and both
 * files are complete. A file whose digest does not match (torn, corrupted) is a miss: it is
 * deleted and rebuilt. After a write, the entry's files with another key are removed.
 *
 * The directory must be ours and not writable by group or others (it holds data this process
 * deserializes and runs interpreters from); otherwise the cache is off, with a warning: never a
 * crash, never a fallback to using the directory anyway. Every failure is a logged miss.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { deserialize, serialize } from "node:v8";
import { threadId } from "node:worker_threads";
import { type BootKey, type BootKeyInput, bootCacheKey } from "./boot-cache-key.js";
import { readShared } from "./read-shared.js";

const MAGIC = Buffer.from("ISBOOT01", "latin1");
const DIGEST_BYTES = 32;
const HEADER_BYTES = MAGIC.length + DIGEST_BYTES;
/** Temp files older than this are left-overs of a writer that died; younger ones may be in use. */
const STALE_TEMP_MS = 10 * 60_000;

export interface BootCacheLogRecord {
  readonly level: "info" | "warn";
  readonly msg: string;
  /** Structured-cloneable values only (the records cross from the loader worker to the server's log). */
  readonly fields: Readonly<Record<string, string | number>>;
}

export type BootCacheLog = (record: BootCacheLogRecord) => void;

type Lookup = { readonly found: true; readonly value: unknown } | { readonly found: false };

export class BootCache {
  private readonly pending = new Set<Promise<void>>();

  private constructor(
    readonly dir: string,
    private readonly log: BootCacheLog,
  ) {}

  /**
   * Creates the directory (0700) if needed and checks it: a directory (not a symlink), owned by this
   * process's user, not writable by group or others. Undefined (and a warning) when it is unusable.
   */
  static async open(dir: string, log: BootCacheLog): Promise<BootCache | undefined> {
    const path = resolve(dir);
    const refuse = (reason: string) => {
      log({ level: "warn", msg: "snapshot cache disabled: its directory is unusable", fields: { dir: path, reason } });
      return undefined;
    };
    const uid = process.getuid?.();
    if (uid === undefined) return refuse("this platform has no user ids to check the owner against");
    try {
      await mkdir(path, { recursive: true, mode: 0o700 });
      const info = await lstat(path);
      if (info.isSymbolicLink()) return refuse("it is a symbolic link; give the real path");
      if (!info.isDirectory()) return refuse("it is not a directory");
      if (info.uid !== uid) return refuse(`it is owned by uid ${info.uid}, not by this process (uid ${uid})`);
      if ((info.mode & 0o022) !== 0) {
        return refuse(`it is writable by group or others (mode ${(info.mode & 0o777).toString(8)})`);
      }
    } catch (error) {
      return refuse(message(error));
    }
    return new BootCache(path, log);
  }

  /** The cached result of `input`'s boot, else `boot()`'s (then stored in the background, see flush). */
  async through(input: BootKeyInput, boot: () => Promise<unknown>): Promise<unknown> {
    let key: BootKey;
    try {
      key = await bootCacheKey(input);
    } catch (error) {
      this.log({
        level: "warn",
        msg: "snapshot cache skipped: the boot's key could not be computed",
        fields: { dir: this.dir, reason: message(error) },
      });
      return boot();
    }
    const hit = await this.read(key);
    if (hit.found) return hit.value;
    const value = await boot();
    const write = this.write(key, value);
    this.pending.add(write);
    void write.finally(() => this.pending.delete(write));
    return value;
  }

  /** Resolves once every write started so far has finished (writes never reject). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  fileFor(key: BootKey): string {
    return join(this.dir, `boot-${key.entryId}-${key.digest}.bin`);
  }

  async read(key: BootKey): Promise<Lookup> {
    const file = this.fileFor(key);
    const started = performance.now();
    const miss = (level: "info" | "warn", reason: string, drop: boolean): Lookup => {
      this.log({ level, msg: "snapshot cache miss", fields: { file, entry: key.parts.entry ?? "", reason } });
      if (drop) void unlink(file).catch(() => undefined);
      return { found: false };
    };
    let bytes: Buffer;
    try {
      // O_NONBLOCK: a FIFO planted under the name must not hang the start (no effect on a regular file).
      const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        const info = await handle.stat();
        if (!info.isFile()) return miss("warn", "not a regular file", false);
        if (info.uid !== process.getuid?.() || (info.mode & 0o077) !== 0) {
          return miss("warn", `unsafe file (uid ${info.uid}, mode ${(info.mode & 0o777).toString(8)})`, true);
        }
        // In shared memory: the byte arrays v8.deserialize makes of it are then views into one
        // SharedArrayBuffer, which shareLargeBytes passes on as they are instead of copying each into
        // its own (Ruby: 56 MB, ~150 ms, measured).
        bytes = await readShared(handle, info.size);
      } finally {
        await handle.close();
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return miss("info", "no entry for this key", false);
      return miss("warn", `unreadable: ${message(error)}`, code === "ELOOP");
    }
    if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      return miss("warn", "corrupt: bad header", true);
    }
    const body = bytes.subarray(HEADER_BYTES);
    const digest = createHash("sha256").update(body).digest();
    if (!digest.equals(bytes.subarray(MAGIC.length, HEADER_BYTES)))
      return miss("warn", "corrupt: digest mismatch", true);
    let record: { key?: unknown; value?: unknown };
    try {
      record = deserialize(body) as typeof record;
    } catch (error) {
      return miss("warn", `corrupt: ${message(error)}`, true);
    }
    if (typeof record !== "object" || record === null || record.key !== key.digest) {
      return miss("warn", "corrupt: written for another key", true);
    }
    this.log({
      level: "info",
      msg: "snapshot cache hit",
      fields: { file, entry: key.parts.entry ?? "", bytes: bytes.length, ms: Math.round(performance.now() - started) },
    });
    return { found: true, value: record.value };
  }

  /** Stores `value` under `key` atomically, then removes the entry's other files. Never rejects. */
  async write(key: BootKey, value: unknown): Promise<void> {
    const file = this.fileFor(key);
    const temp = join(this.dir, `.boot-${key.entryId}-${key.digest}.${process.pid}-${threadId}-${nonce()}.tmp`);
    const started = performance.now();
    let size = 0;
    try {
      const body = serialize({ key: key.digest, parts: key.parts, createdAt: new Date().toISOString(), value });
      const header = Buffer.concat([MAGIC, createHash("sha256").update(body).digest()]);
      size = header.length + body.length;
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
      const handle = await open(temp, flags, 0o600);
      try {
        await handle.writev([header, body]);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      await syncDirectory(this.dir);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      this.log({
        level: "warn",
        msg: "snapshot cache write failed",
        fields: { file, entry: key.parts.entry ?? "", reason: message(error) },
      });
      return;
    }
    this.log({
      level: "info",
      msg: "snapshot cache stored",
      fields: { file, entry: key.parts.entry ?? "", bytes: size, ms: Math.round(performance.now() - started) },
    });
    await this.prune(key);
  }

  /** Removes the entry's files with another key, and temp files of writers that died. */
  private async prune(key: BootKey): Promise<void> {
    const keep = `boot-${key.entryId}-${key.digest}.bin`;
    const entryPrefix = `boot-${key.entryId}-`;
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      if (name.startsWith(entryPrefix) && name.endsWith(".bin") && name !== keep) {
        await unlink(path).then(
          () => this.log({ level: "info", msg: "snapshot cache removed an old entry", fields: { file: path } }),
          () => undefined,
        );
      } else if (name.startsWith(`.${entryPrefix}`) && name.endsWith(".tmp")) {
        const info = await stat(path).catch(() => undefined);
        if (info && Date.now() - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
      }
    }
  }
}

/** The cache runBootProcess uses in this thread (set by the runtime loader); none by default. */
let active: Promise<BootCache | undefined> | undefined;

/** Turns the cache on for this thread's boots (`dir`), or off (undefined). */
export function configureBootCache(dir: string | undefined, log: BootCacheLog): void {
  active = dir === undefined ? undefined : BootCache.open(dir, log);
}

export function activeBootCache(): Promise<BootCache | undefined> | undefined {
  return active;
}

/** Waits for this thread's cache writes (the loader calls it before it is terminated). */
export async function settleBootCacheWrites(): Promise<void> {
  await (await active)?.flush();
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function nonce(): string {
  return randomBytes(6).toString("hex");
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

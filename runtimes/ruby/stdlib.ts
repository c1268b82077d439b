/**
 * Ruby's standard library as a read-only tree served by the host, instead of the copy wasi-vfs
 * embeds in ruby+stdlib.wasm's linear memory.
 *
 * Why: embedded, the library's 14 MB of files sit in the interpreter's memory, so every snapshot
 * holds them and every restore copies them (294 of the 369 64 KiB pages the snapshot stored, ~2.5 of
 * the ~4.5 ms a spare's copy took). The package's plain `ruby.wasm` is the same build without them:
 * booted with this tree as the preopen RUBY_LIB_DIR, its snapshot keeps only the interpreter's heap.
 *
 * The archive is made at build time (stdlib-build.ts, part of `npm run build`) by running
 * ruby+stdlib.wasm once and reading every entry under RUBY_LIB_DIR out of it, so it is exactly the
 * library the package ships with its interpreter. It is not committed: the package's version is
 * recorded in it, and a load refuses an archive made from another version than the one installed.
 *
 * Format (all integers little-endian): MAGIC, u32 length of the index, the index as UTF-8 JSON
 * (RubyStdlibIndex), then the files' bytes (offsets in the index count from there).
 *
 * Guest side: ruby.wasm's wasi-vfs still provides a preopen `/usr` of its own (holding only
 * rbconfig.rb); wasi-libc resolves a path against the preopen with the longest matching prefix, so
 * everything under /usr/local/lib/ruby comes from this tree. The tree is built once per worker and
 * shared by its executions: its directories are read-only VfsDirectory objects (no new entries,
 * unlinks, renames or time changes) and its files ReadOnlyFile objects (no write, resize, allocation
 * or time change), so no execution can leave anything in it for the next.
 */
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Fd, Inode } from "@bjorn3/browser_wasi_shim";
import { readShared } from "../../src/sandbox/wasm/read-shared.js";
import { ReadOnlyFile, VfsDirectory, VfsPreopen } from "../../wasm/host/wasi-fs.js";
import { runtimeBuildDirs } from "../build-dirs.js";

/** Where the guest finds the library: the prefix ruby.wasm was configured with (RbConfig rubylibprefix). */
export const RUBY_LIB_DIR = "/usr/local/lib/ruby";
export const STDLIB_FILE = "stdlib.bin";
export const RUBY_PACKAGE = "@ruby/3.4-wasm-wasi";

const MAGIC = Buffer.from("ISRBLIB1", "latin1");
const HEADER_BYTES = MAGIC.length + 4;
const FORMAT = 1;

/** Where stdlib-build.ts writes the archive (see runtimeBuildDirs). */
export const BUILD_DIRS: readonly string[] = runtimeBuildDirs(import.meta.url, "ruby");

export interface RubyStdlibIndex {
  readonly format: number;
  /** The package and version the archive was read from. */
  readonly package: string;
  readonly packageVersion: string;
  readonly rubyVersion: string;
  /** Directories, relative to RUBY_LIB_DIR, parents before children. */
  readonly directories: readonly string[];
  /** [path relative to RUBY_LIB_DIR, offset, length], offsets from the start of the data. */
  readonly files: readonly (readonly [string, number, number])[];
}

/** An archive in memory: its index and the bytes the index points into. */
export interface RubyStdlib {
  readonly index: RubyStdlibIndex;
  /** The files' bytes, back to back (a view into `bytes`). */
  readonly data: Uint8Array;
  /** The whole archive (shared memory in the service: what the workers are given, and decode). */
  readonly bytes: Uint8Array;
}

export interface StdlibEntry {
  readonly path: string;
  /** Undefined for a directory. */
  readonly content?: Uint8Array;
}

export function encodeStdlib(
  meta: Pick<RubyStdlibIndex, "packageVersion" | "rubyVersion">,
  entries: readonly StdlibEntry[],
): Uint8Array {
  const directories: string[] = [];
  const files: [string, number, number][] = [];
  const contents: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    checkPath(entry.path);
    if (entry.content === undefined) {
      directories.push(entry.path);
      continue;
    }
    files.push([entry.path, offset, entry.content.byteLength]);
    contents.push(entry.content);
    offset += entry.content.byteLength;
  }
  const index: RubyStdlibIndex = { format: FORMAT, package: RUBY_PACKAGE, ...meta, directories, files };
  const json = Buffer.from(JSON.stringify(index), "utf8");
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32LE(json.byteLength, MAGIC.length);
  return Buffer.concat([header, json, ...contents]);
}

/** Parse an archive, checking every entry against its bounds. `bytes` may be a view of shared memory. */
export function decodeStdlib(bytes: Uint8Array): RubyStdlib {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.byteLength < HEADER_BYTES || !view.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error("not a Ruby standard library archive (bad magic)");
  }
  const jsonBytes = view.readUInt32LE(MAGIC.length);
  if (HEADER_BYTES + jsonBytes > view.byteLength) throw new Error("Ruby standard library archive: truncated index");
  const index = JSON.parse(view.toString("utf8", HEADER_BYTES, HEADER_BYTES + jsonBytes)) as RubyStdlibIndex;
  if (index.format !== FORMAT || !Array.isArray(index.files) || !Array.isArray(index.directories)) {
    throw new Error(`Ruby standard library archive: unknown format ${String(index.format)}`);
  }
  const data = bytes.subarray(HEADER_BYTES + jsonBytes);
  for (const [path, offset, length] of index.files) {
    checkPath(path);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      throw new Error(`Ruby standard library archive: bad extent for ${path}`);
    }
    if (offset + length > data.byteLength) throw new Error(`Ruby standard library archive: ${path} is truncated`);
  }
  for (const path of index.directories) checkPath(path);
  return { index, data, bytes };
}

function checkPath(path: string): void {
  if (typeof path !== "string" || path === "" || path.split("/").some((p) => p === "" || p === "." || p === "..")) {
    throw new Error(`Ruby standard library archive: invalid path ${JSON.stringify(path)}`);
  }
}

/** The installed package's version (from its package.json). */
export async function installedRubyPackageVersion(packageJson: string): Promise<string> {
  const manifest = JSON.parse(await readFile(packageJson, "utf8")) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}

/**
 * Read the built archive, into a SharedArrayBuffer when `shared` (the service: posted to every worker
 * by reference), and check it was made from the installed package version.
 */
export async function readRubyStdlib(
  installedVersion: string,
  options: { shared?: boolean; dirs?: readonly string[] } = {},
): Promise<RubyStdlib> {
  const dirs = options.dirs ?? BUILD_DIRS;
  let bytes: Uint8Array | undefined;
  for (const dir of dirs) {
    bytes = await readWhole(join(dir, STDLIB_FILE), options.shared === true);
    if (bytes !== undefined) break;
  }
  if (bytes === undefined) {
    throw new Error(
      `ruby runtime is not built: no ${STDLIB_FILE} in ${dirs.join(" or ")}; run \`npm run build\` (or \`npx tsx runtimes/ruby/stdlib-build.ts\`)`,
    );
  }
  const stdlib = decodeStdlib(bytes);
  if (stdlib.index.package !== RUBY_PACKAGE || stdlib.index.packageVersion !== installedVersion) {
    throw new Error(
      `ruby runtime: ${STDLIB_FILE} was built from ${stdlib.index.package} ${stdlib.index.packageVersion}, but ${installedVersion} is installed; run \`npm run build\``,
    );
  }
  return stdlib;
}

async function readWhole(path: string, shared: boolean): Promise<Uint8Array | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch {
    return undefined;
  }
  try {
    return shared ? await readShared(handle, (await handle.stat()).size) : await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The archive as a read-only directory tree (built once per worker, shared by its executions). */
export function stdlibTree(stdlib: RubyStdlib): VfsDirectory {
  const root = new VfsDirectory(new Map(), null);
  const dirOf = (parts: readonly string[]): VfsDirectory => {
    let dir = root;
    for (const part of parts) {
      let next: Inode | undefined = dir.contents.get(part);
      if (next === undefined) {
        next = new VfsDirectory(new Map(), null);
        dir.contents.set(part, next);
      }
      if (!(next instanceof VfsDirectory)) throw new Error(`Ruby standard library archive: ${part} is not a directory`);
      dir = next;
    }
    return dir;
  };
  for (const path of stdlib.index.directories) dirOf(path.split("/"));
  for (const [path, offset, length] of stdlib.index.files) {
    const parts = path.split("/");
    const name = parts.pop() as string;
    dirOf(parts).contents.set(name, new ReadOnlyFile(stdlib.data.subarray(offset, offset + length)));
  }
  return root;
}

/** The preopen of one execution (or of the snapshot boot) over a worker's shared tree. */
export function stdlibPreopen(tree: VfsDirectory): VfsPreopen {
  return new VfsPreopen(RUBY_LIB_DIR, tree);
}

/**
 * A Ruby guest's preopens, in the order the snapshot was booted with (boot.ts) and every execution
 * must repeat (wasi-libc's preopen table is in the snapshot): the guest filesystem's (/, /workspace,
 * /tmp), the standard library, then the HTTP device.
 */
export function rubyPreopens(filesystem: readonly Fd[], tree: VfsDirectory, httpDevice: Fd): Fd[] {
  return [...filesystem, stdlibPreopen(tree), httpDevice];
}

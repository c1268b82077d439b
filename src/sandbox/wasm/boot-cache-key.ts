/**
 * The key of a cached boot result (boot-cache.ts): a digest of everything the result could depend
 * on, so that a cached snapshot is only reused by a process that would have booted the same one.
 * Conservative on purpose: a needless miss costs one boot, a wrong hit restores an interpreter whose
 * memory does not fit the code that runs it.
 *
 * Parts (all recorded by name in the cache file, see BootKey.parts):
 * - the runtime: Node and V8 versions, platform, architecture, endianness;
 * - the boot entry: the module's path relative to the package root, the export, a digest of its
 *   arguments (bash passes its bundle and shims);
 * - what the child is started with: the parent's argv (the boot mirrors it: emscripten's layout
 *   depends on it), the child's Node arguments (V8 flags, loader) and the parent's execArgv;
 * - the code and artifacts the boot can read: the entry module's content, and every file of the
 *   tree the code runs from, by path and content (codeTrees): from source, everything under `src/`,
 *   `runtimes/` and `wasm/`; compiled, everything under `dist/` and `wasm/` and every file under
 *   `runtimes/` but the TypeScript sources (data the compiled code reads from the source tree: the
 *   built bash bundle, the python guest library). `wasm/` holds the python artifacts and SHA256SUMS;
 * - the npm packages: the installed version of each dependency in package.json (e.g.
 *   @ruby/3.4-wasm-wasi, quickjs-emscripten, @jitl/quickjs-wasmfile-release-sync) and the content of
 *   package-lock.json and node_modules/.package-lock.json (the installed tree, transitive packages
 *   included).
 */
import { createHash } from "node:crypto";
import { type Dirent, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { endianness } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { serialize } from "node:v8";

/** Bumped when the file format or the key's composition changes. */
export const BOOT_CACHE_FORMAT = 1;

/** A directory of the package hashed as part of the code identity, and which of its files count. */
export interface CodeTree {
  readonly dir: string;
  readonly skipTypeScript?: true;
}

/**
 * What is hashed for an entry module under `root`. Running compiled (the module is under dist/),
 * the TypeScript sources are not what runs: an edit to them changes nothing until a build, which
 * changes dist/.
 */
export function codeTrees(root: string, modulePath: string): readonly CodeTree[] {
  const compiled = !relative(join(root, "dist"), modulePath).startsWith("..");
  return compiled
    ? [{ dir: "dist" }, { dir: "wasm" }, { dir: "runtimes", skipTypeScript: true }]
    : [{ dir: "src" }, { dir: "runtimes" }, { dir: "wasm" }];
}

/** Never descended into. Source maps (`*.map`) are skipped too: nothing runs or reads them. */
const SKIPPED_NAMES: ReadonlySet<string> = new Set(["node_modules", ".git"]);

export interface BootKeyInput {
  /** file: URL of the boot module. */
  readonly module: string;
  readonly export: string;
  readonly args?: readonly unknown[];
  /** The argv the child mirrors. */
  readonly argv: readonly string[];
  /** The child's Node arguments (V8 flags, loader, entry script). */
  readonly childArgs: readonly string[];
}

export interface BootKey {
  /** Identifies the boot entry (module + export): older files of the same entry are removed. */
  readonly entryId: string;
  /** sha256 over every part: the cache file of this key is named by it. */
  readonly digest: string;
  /** Each part by name (digests for large or sensitive ones, such as argv). */
  readonly parts: Readonly<Record<string, string>>;
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

export async function bootCacheKey(input: BootKeyInput): Promise<BootKey> {
  const modulePath = fileURLToPath(input.module);
  const root = packageRoot(modulePath);
  const entry = `${relative(root, modulePath).split(sep).join("/")}#${input.export}`;
  const [entryModule, code, packages] = await Promise.all([
    readFile(modulePath).then(sha256),
    codeIdentity(root, codeTrees(root, modulePath)),
    packageIdentity(root),
  ]);
  const parts: Record<string, string> = {
    format: String(BOOT_CACHE_FORMAT),
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    endianness: endianness(),
    entry,
    args: sha256(serialize(input.args ?? [])),
    argv: sha256(JSON.stringify(input.argv)),
    childArgs: sha256(JSON.stringify(input.childArgs)),
    execArgv: sha256(JSON.stringify(process.execArgv)),
    entryModule,
    code,
    packages,
  };
  const digest = sha256(JSON.stringify(Object.entries(parts)));
  return { entryId: sha256(entry).slice(0, 16), digest, parts };
}

/** The nearest ancestor of `file` holding a package.json. */
export function packageRoot(file: string): string {
  let dir = dirname(file);
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${file}`);
    dir = parent;
  }
}

/** Computed once per root and trees per thread: every boot of one process start sees the same files. */
const codeDigests = new Map<string, Promise<string>>();

/** sha256 over the path and content (or link target) of every file of `trees` under `root`. */
export function codeIdentity(root: string, trees: readonly CodeTree[]): Promise<string> {
  const id = JSON.stringify([root, trees]);
  let digest = codeDigests.get(id);
  if (!digest) {
    digest = hashTrees(root, trees);
    codeDigests.set(id, digest);
    digest.catch(() => codeDigests.delete(id));
  }
  return digest;
}

/**
 * Synchronous on purpose: ~450 small files cost ~140 ms of CPU through the async API and ~50 ms
 * read synchronously (measured, compiled tree), and this runs in a loader worker with nothing else
 * to do meanwhile.
 */
async function hashTrees(root: string, trees: readonly CodeTree[]): Promise<string> {
  const hash = createHash("sha256");
  for (const tree of trees) {
    const all = listFiles(join(root, tree.dir));
    const files = tree.skipTypeScript ? all.filter((file) => !/\.[cm]?ts$/.test(file)) : all;
    for (const file of files) {
      hash.update(`${relative(root, file).split(sep).join("/")}\0${fileIdentity(file)}\n`);
    }
  }
  return hash.digest("hex");
}

/** A file's content digest, or a link's target; "gone" for a file removed since it was listed. */
function fileIdentity(file: string): string {
  try {
    const info = lstatSync(file);
    return info.isSymbolicLink() ? `link:${readlinkSync(file)}` : sha256(readFileSync(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
}

/** Every regular file and symlink under `dir` but source maps, sorted; an absent directory has none. */
function listFiles(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const entry of entries) {
    if (SKIPPED_NAMES.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if ((entry.isFile() || entry.isSymbolicLink()) && !entry.name.endsWith(".map")) out.push(path);
  }
  return out;
}

/** The installed version of each dependency, and the lock files' content. */
async function packageIdentity(root: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  const lines: string[] = [];
  for (const name of Object.keys(manifest.dependencies ?? {}).sort()) {
    lines.push(`${name}@${await installedVersion(root, name)}`);
  }
  for (const lock of ["package-lock.json", join("node_modules", ".package-lock.json")]) {
    lines.push(`${lock}:${await readFile(join(root, lock)).then(sha256, () => "absent")}`);
  }
  return sha256(lines.join("\n"));
}

async function installedVersion(root: string, name: string): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(join(root, "node_modules", name, "package.json"), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "absent";
  }
}

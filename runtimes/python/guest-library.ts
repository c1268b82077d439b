/**
 * The pure-Python `sandbox` package (runtimes/python/lib/sandbox/: `sandbox.http`, and urllib routed
 * to it), served read-only to the guest in the interpreter's site-packages directory. Python's
 * `site` puts that directory on sys.path at pyreactor_init, and the package is imported before the
 * snapshot (SANDBOX_MODULES), so every execution finds it in sys.modules.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { File, type Inode } from "@bjorn3/browser_wasi_shim";
import { projectFile } from "../../wasm/host/project-file.js";
import { VfsDirectory } from "../../wasm/host/wasi-fs.js";

/** Relative to the stdlib preopen (/usr/local/lib): what `site` adds for prefix /usr/local. */
export const SITE_PACKAGES = "python3.11/site-packages";
/** Imported into the snapshot. */
export const SANDBOX_MODULES: readonly string[] = ["sandbox", "sandbox.http"];

export interface LibraryFile {
  /** Relative to site-packages, e.g. `sandbox/http.py`. */
  readonly path: string;
  readonly content: Uint8Array;
}

/** Read the package's .py files (main thread, at load). */
export async function readGuestLibrary(): Promise<LibraryFile[]> {
  const root = projectFile("runtimes/python/lib/sandbox/__init__.py", import.meta.url).replace(
    /[/\\]__init__\.py$/,
    "",
  );
  const names = (await readdir(root)).filter((name) => name.endsWith(".py")).sort();
  return Promise.all(
    names.map(async (name) => ({ path: `sandbox/${name}`, content: new Uint8Array(await readFile(join(root, name))) })),
  );
}

/** The `python3.11` entry of /usr/local/lib: site-packages holding the package, all read-only. */
export function siteTree(files: readonly LibraryFile[]): readonly [string, Inode] {
  const site = new VfsDirectory(new Map(), null);
  for (const file of files) {
    const parts = file.path.split("/");
    const name = parts.pop();
    if (!name) throw new Error(`invalid library path ${file.path}`);
    let dir = site;
    for (const part of parts) {
      let next = dir.contents.get(part);
      if (next === undefined) {
        next = new VfsDirectory(new Map(), null);
        dir.contents.set(part, next);
      }
      if (!(next instanceof VfsDirectory)) throw new Error(`${file.path} crosses a file`);
      dir = next;
    }
    const entry = new File(new ArrayBuffer(0), { readonly: true });
    entry.data = file.content;
    dir.contents.set(name, entry);
  }
  const [top, rest] = SITE_PACKAGES.split("/") as [string, string];
  return [top, new VfsDirectory(new Map<string, Inode>([[rest, site]]), null)];
}

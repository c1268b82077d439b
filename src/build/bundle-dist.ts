/**
 * Build step (`npm run build`, after tsc): bundles, in place, each file of `dist/` a thread or a
 * process of the server starts from, so each of them loads one bundle (plus the packages kept out of
 * it, see below) instead of up to 270 modules.
 *
 * Why: every thread of a start (the main thread, the runtime loader, each worker, each boot child)
 * imported its own graph of tsc's files through Node's ES module loader, whose cost grows with the
 * number of modules, on the two cores the boots need. Measured on this machine (alternating starts,
 * benchmarks/README.md): the server's CPU up to /readyz's 200 ~0.5 s lower, every language available
 * ~0.3-0.5 s sooner.
 *
 * How it stays the same program:
 * - each bundle replaces its entry file, so every path the code uses to find another entry (a
 *   Worker's URL, a boot's module URL) still finds one, bundled or not: an unbundled `dist/` (tsc's
 *   output alone) runs the same way, only slower;
 * - `import.meta.url` in a file that ends up inside a bundle is rewritten to that file's own URL,
 *   relative to the bundle (`new URL("<path>", import.meta.url).href`): the runtimes find their
 *   artifacts, and the code its sibling entries, exactly as from tsc's files;
 * - class names stay what they are: esbuild renames a top-level symbol that clashes with another
 *   file's (`Clash` -> `Clash2`), and a class's name is observable (pino logs an error's
 *   `constructor.name` as its `type`), so the build fails when a top-level class of ours shares its
 *   name with another bundled file's top-level class. esbuild's `keepNames` would keep every name, but it wraps every
 *   function and class field it emits in a call that redefines its `name` at run time: ~35 such
 *   calls per execution on the main thread (Hono's Context alone has 18 fields), and measure-ab (10
 *   ms pauses, 16 rounds) had JavaScript -0.16 ms and Python -0.05 ms without them (13 of 16 faster
 *   each). A function declared inside another is never renamed, so its inferred name stays;
 * - packages stay imports from `node_modules`, except BUNDLED_PACKAGES: plain ES modules of many
 *   files that never look for a file of their own (the build fails if one mentions `import.meta`,
 *   `__dirname` or `__filename`); better-sqlite3's native addon, pino's transports and the
 *   interpreters' own packages (QuickJS's build variant, ruby.wasm's) load as published;
 * - source maps chain to the TypeScript (`node --enable-source-maps`).
 * Every bundle is built before any is written: a failed build leaves tsc's `dist/` as it was.
 */
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type OutputFile, type Plugin } from "esbuild";
import ts from "typescript";

/** What each bundle starts with; a file that starts with it is not bundled again. */
export const BUNDLE_BANNER = "// Bundled by src/build/bundle-dist.ts from tsc's output; see that file.";

/**
 * The entries under `dist/`: the server's main thread (`npm start`), the worker entries
 * (spawn-worker.ts WORKER_ENTRIES), the boot child's entry (boot-process.ts) and the boot modules
 * it imports by URL (runtimes/boot-entries.ts). bundle-dist.test.ts checks the list against them.
 */
export const DIST_ENTRIES: readonly string[] = [
  "src/main.js",
  "src/sandbox/wasm/loader.js",
  "src/sandbox/wasm/worker.js",
  "src/sandbox/wasm/boot-entry.js",
  "runtimes/python/boot.js",
  "runtimes/ruby/boot.js",
  "runtimes/bash/boot.js",
];

/** Packages inlined into the bundles (see the file's comment); every other one stays an import. */
export const BUNDLED_PACKAGES: readonly string[] = [
  "zod",
  "hono",
  "@hono/node-server",
  "fflate",
  "@bjorn3/browser_wasi_shim",
  "quickjs-emscripten-core",
];

export interface BundleOptions {
  /** The directory holding tsc's output (`<project>/dist`). */
  readonly distDir: string;
  readonly entries?: readonly string[];
  readonly packages?: readonly string[];
}

export interface BundleReport {
  readonly bundled: ReadonlyArray<{ readonly entry: string; readonly modules: number; readonly bytes: number }>;
  /** Entries left alone because they already were bundles. */
  readonly skipped: readonly string[];
}

/** `zod/v4` -> `zod`, `@hono/node-server/vercel` -> `@hono/node-server`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

const FILE_LOOKUPS = /\bimport\.meta\b|\b__dirname\b|\b__filename\b/;
const META_URL = /\bimport\.meta\.url\b/g;

/** The classes `text` (a JavaScript module) declares at its top level: the only ones a bundle renames. */
function classNames(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  return source.statements.flatMap((statement) =>
    ts.isClassDeclaration(statement) && statement.name ? [statement.name.text] : [],
  );
}

/** Which files declare a class of each name, and the names our own files declare. */
interface ClassDeclarations {
  readonly declaredIn: Map<string, Set<string>>;
  readonly ours: Set<string>;
}

/** The class names of ours that another bundled file declares too: `class X is declared in a and b`. */
function classClashes(found: ClassDeclarations, distDir: string): string[] {
  return [...found.ours].flatMap((name) => {
    const files = [...(found.declaredIn.get(name) ?? [])].map((f) => relative(distDir, f).split(sep).join("/"));
    return files.length > 1 ? [`class ${name} is declared in ${files.sort().join(" and ")}`] : [];
  });
}

function distPlugin(bundleDir: string, packages: ReadonlySet<string>, found: ClassDeclarations): Plugin {
  return {
    name: "dist",
    setup(pluginBuild) {
      const { declaredIn, ours } = found;
      const declare = (path: string, text: string, own: boolean) => {
        for (const name of classNames(path, text)) {
          const files = declaredIn.get(name) ?? new Set<string>();
          declaredIn.set(name, files.add(path));
          if (own) ours.add(name);
        }
      };
      // Bare specifiers: built-ins and packages outside the list stay imports.
      pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith("node:")) return { external: true };
        return packages.has(packageName(args.path)) ? undefined : { external: true };
      });
      pluginBuild.onLoad({ filter: /\.m?js$/ }, async (args) => {
        const text = await readFile(args.path, "utf8");
        const inPackage = args.path.split(sep).includes("node_modules");
        declare(args.path, text, !inPackage);
        if (inPackage) {
          if (FILE_LOOKUPS.test(text)) {
            return { errors: [{ text: `${args.path} looks for its own files; keep its package out of the bundle` }] };
          }
          return { contents: text, loader: "js" };
        }
        const own = relative(bundleDir, args.path).split(sep).join("/");
        return {
          contents: text.replace(META_URL, `new URL(${JSON.stringify(own)}, import.meta.url).href`),
          loader: "js",
        };
      });
    },
  };
}

async function bundleOne(distDir: string, entry: string, packages: ReadonlySet<string>): Promise<BuiltEntry> {
  const path = join(distDir, entry);
  const found: ClassDeclarations = { declaredIn: new Map(), ours: new Set() };
  const result = await build({
    entryPoints: [path],
    // One file, dynamic imports included: the loader and the workers use every runtime at start, and
    // parsing them with the entry, before the first language is added, made JavaScript available
    // ~0.25 s sooner than keeping each runtime a separate file imported when its language is added
    // (esbuild's code splitting; 6 alternating starts). Splitting only main.js, whose loader thread
    // then started ~90 ms sooner, changed nothing measurable (6 more).
    outfile: path,
    allowOverwrite: true,
    write: false,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    sourcesContent: false,
    banner: { js: BUNDLE_BANNER },
    metafile: true,
    logLevel: "silent",
    plugins: [distPlugin(dirname(path), packages, found)],
  });
  const clashes = classClashes(found, distDir);
  if (clashes.length > 0) {
    throw new Error(
      `${entry}: ${clashes.join("; ")}: the bundle would rename one of them (its name would change); rename one`,
    );
  }
  const code = result.outputFiles.find((file) => file.path === path);
  return {
    entry,
    files: result.outputFiles,
    modules: Object.keys(result.metafile.inputs).length,
    bytes: code?.contents.byteLength ?? 0,
  };
}

interface BuiltEntry {
  readonly entry: string;
  readonly files: readonly OutputFile[];
  readonly modules: number;
  readonly bytes: number;
}

/** Bundles every entry of `distDir` in place (see the file's comment); one that is a bundle already is left alone. */
export async function bundleDist(options: BundleOptions): Promise<BundleReport> {
  const packages = new Set(options.packages ?? BUNDLED_PACKAGES);
  const todo: string[] = [];
  const skipped: string[] = [];
  for (const entry of options.entries ?? DIST_ENTRIES) {
    const text = await readFile(join(options.distDir, entry), "utf8");
    (text.startsWith(BUNDLE_BANNER) ? skipped : todo).push(entry);
  }
  // All built from tsc's files before any is written: one entry's graph may hold another entry.
  const built = await Promise.all(todo.map((entry) => bundleOne(options.distDir, entry, packages)));
  for (const { files } of built) {
    for (const file of files) await writeFile(file.path, file.contents);
  }
  return { bundled: built.map(({ entry, modules, bytes }) => ({ entry, modules, bytes })), skipped };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const distDir = fileURLToPath(new URL("../../dist", import.meta.url));
  const report = await bundleDist({ distDir });
  for (const { entry, modules, bytes } of report.bundled) {
    process.stdout.write(`dist: bundled ${entry} (${modules} modules, ${bytes} bytes)\n`);
  }
  for (const entry of report.skipped) process.stdout.write(`dist: ${entry} is already a bundle\n`);
}

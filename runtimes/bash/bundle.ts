/**
 * Build step (run at install/build time, e.g. `npx tsx runtimes/bash/bundle.ts`):
 * - esbuild-bundles just-bash's browser entry plus our guest driver into one IIFE,
 *   runtimes/bash/build/just-bash.js, which is evaluated inside QuickJS;
 * - concatenates the QuickJS host shims (runtimes/bash/shims/*.js, in a fixed order) into
 *   runtimes/bash/build/shims.js.
 * `node:zlib` is aliased to a pure-JS stand-in (stubs/node-zlib.ts). No other Node built-in may be
 * reached: the build fails if the bundle imports one.
 *
 * Class fields are lowered to assignments in the constructor (esbuild's `supported`, see
 * LOWERED_FEATURES): same semantics, but much cheaper for QuickJS to compile in one script this long.
 */
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { BUNDLE_FILE, SHIMS_FILE } from "./build-files.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const BUILD_DIR = join(HERE, "build");

/** Evaluation order matters: later shims use earlier ones (random before crypto, encoding before base64). */
export const SHIM_ORDER = [
  "globals.js",
  "random.js",
  "console.js",
  "timers.js",
  "encoding.js",
  "base64.js",
  "buffer.js",
  "abort.js",
  "crypto.js",
  "clone.js",
] as const;

/**
 * Syntax esbuild rewrites instead of emitting. QuickJS turns each source position into a line/column
 * by scanning the source from the position it looked up before, and compiles a class's field
 * initializers into a function whose position is the start of the script: every class with fields
 * cost two scans of everything before it (measured on the 1.3 MB bundle: 68 MB scanned, ~0.3 s of
 * the ~1.1 s evaluation, Liftoff).
 * Lowered, fields become `__publicField(this, "name", value)` calls in the constructor (define
 * semantics, as native fields), and the scanning drops to 10 MB. esbuild then lowers the private
 * fields of the same classes too (WeakMaps: only minimatch has any, used by `ls` patterns).
 */
export const LOWERED_FEATURES: Readonly<Record<string, false>> = {
  "class-field": false,
  "class-static-field": false,
};

const nodeBuiltins: Plugin = {
  name: "node-builtins",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:zlib$|^zlib$/ }, () => ({
      path: join(HERE, "stubs", "node-zlib.ts"),
    }));
    pluginBuild.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `just-bash bundle must not import the Node built-in ${args.path}` }],
    }));
  },
};

export interface BundleReport {
  readonly bundleBytes: number;
  readonly shimsBytes: number;
}

export async function buildBashBundle(outDir: string = BUILD_DIR): Promise<BundleReport> {
  await mkdir(outDir, { recursive: true });
  const bundlePath = join(outDir, BUNDLE_FILE);
  await build({
    entryPoints: [join(HERE, "guest", "entry.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    supported: LOWERED_FEATURES,
    minify: true,
    legalComments: "none",
    mainFields: ["browser", "module", "main"],
    conditions: ["browser", "import"],
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [nodeBuiltins],
    outfile: bundlePath,
    logLevel: "warning",
  });
  const shims = await Promise.all(
    SHIM_ORDER.map(async (name) => `// ${name}\n${await readFile(join(HERE, "shims", name), "utf8")}`),
  );
  const shimsPath = join(outDir, SHIMS_FILE);
  await writeFile(shimsPath, shims.join("\n"));
  return { bundleBytes: (await stat(bundlePath)).size, shimsBytes: (await stat(shimsPath)).size };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await buildBashBundle();
  process.stdout.write(
    `runtimes/bash: wrote ${BUNDLE_FILE} (${report.bundleBytes} bytes) and ${SHIMS_FILE} (${report.shimsBytes} bytes)\n`,
  );
}

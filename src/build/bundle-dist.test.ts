import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { BASH_BOOT_MODULE, PYTHON_BOOT, RUBY_BOOT } from "../../runtimes/boot-entries.js";
import { bootProcessArgs } from "../sandbox/wasm/boot-process.js";
import { WORKER_ENTRIES } from "../sandbox/wasm/spawn-worker.js";
import { BUNDLE_BANNER, bundleDist, DIST_ENTRIES, packageName } from "./bundle-dist.js";

const PROJECT = fileURLToPath(new URL("../../", import.meta.url));
const temps: string[] = [];

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** The dist path of a TypeScript source: `<project>/src/x.ts` -> `src/x.js`. */
function distPathOf(source: string): string {
  return relative(PROJECT, source.startsWith("file:") ? fileURLToPath(source) : source).replace(/\.ts$/, ".js");
}

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** A project with a tsc-like dist/ and three packages: one to inline, one kept, one that finds its files. */
function fixture(): { root: string; dist: string } {
  const root = mkdtempSync(join(tmpdir(), "bundle-dist-"));
  temps.push(root);
  const pkg = (name: string, index: string) => ({
    [`node_modules/${name}/package.json`]: JSON.stringify({ name, type: "module", exports: "./index.js" }),
    [`node_modules/${name}/index.js`]: index,
  });
  write(root, {
    ...pkg("inlined", 'export const inlined = "from inlined";\n'),
    ...pkg("kept", 'export const kept = "from kept";\n'),
    ...pkg("looks", 'export const here = typeof __dirname === "string" ? __dirname : "";\n'),
    "dist/src/entry.js": [
      'import { where } from "../lib/where.js";',
      'import { clash as a } from "../lib/a.js";',
      'import { clash as b } from "./b.js";',
      'import { inlined } from "inlined";',
      'import { kept } from "kept";',
      "export const url = where();",
      "export const names = [a.name, b.name];",
      "export const values = [inlined, kept];",
      "export const entryUrl = import.meta.url;",
      "//# sourceMappingURL=entry.js.map",
      "",
    ].join("\n"),
    "dist/src/b.js": "export function clash() {}\n",
    "dist/lib/a.js": "export function clash() {}\n",
    "dist/lib/where.js": 'export function where() {\n  return new URL("./data.txt", import.meta.url).href;\n}\n',
    "dist/lib/data.txt": "data\n",
  });
  return { root, dist: join(root, "dist") };
}

describe("packageName", () => {
  it("names a package from its specifier", () => {
    expect(packageName("zod")).toBe("zod");
    expect(packageName("zod/v4")).toBe("zod");
    expect(packageName("@hono/node-server")).toBe("@hono/node-server");
    expect(packageName("@hono/node-server/conninfo")).toBe("@hono/node-server");
  });
});

describe("DIST_ENTRIES", () => {
  it("holds every file a thread or a process of the server starts from", () => {
    const start = JSON.parse(readFileSync(join(PROJECT, "package.json"), "utf8")).scripts.start as string;
    expect(start).toBe(`node dist/${DIST_ENTRIES[0]}`);
    const expected = [
      ...WORKER_ENTRIES.map((entry) => `src/sandbox/wasm/${entry}.js`),
      distPathOf(bootProcessArgs().at(-1) as string),
      ...[PYTHON_BOOT.module, RUBY_BOOT.module, BASH_BOOT_MODULE].map(distPathOf),
    ];
    expect(DIST_ENTRIES).toEqual(expect.arrayContaining(expected));
    for (const entry of DIST_ENTRIES)
      expect(existsSync(join(PROJECT, entry.replace(/\.js$/, ".ts"))), entry).toBe(true);
  });
});

describe("bundleDist", () => {
  it("bundles an entry in place, each file still finding its own neighbours", async () => {
    const { dist } = fixture();
    const report = await bundleDist({ distDir: dist, entries: ["src/entry.js"], packages: ["inlined"] });
    expect(report.bundled.map((b) => [b.entry, b.modules])).toEqual([["src/entry.js", 5]]);

    const bundle = readFileSync(join(dist, "src/entry.js"), "utf8");
    expect(bundle.startsWith(BUNDLE_BANNER)).toBe(true);
    expect(bundle).not.toMatch(/from "\.\.?\//);
    expect(bundle).toMatch(/from "kept"/);
    expect(bundle).not.toMatch(/from "inlined"/);
    expect(existsSync(join(dist, "src/entry.js.map"))).toBe(true);

    const loaded = await import(pathToFileURL(join(dist, "src/entry.js")).href);
    expect(loaded.url).toBe(pathToFileURL(join(dist, "lib/data.txt")).href);
    expect(loaded.entryUrl).toBe(pathToFileURL(join(dist, "src/entry.js")).href);
    // Two top-level functions of one name: one is renamed (no keepNames, see bundle-dist.ts).
    expect(loaded.names.sort()).toEqual(["clash", "clash2"]);
    expect(loaded.values).toEqual(["from inlined", "from kept"]);
  });

  it("refuses to bundle two classes of one name, one of them ours (the bundle would rename one)", async () => {
    const { dist } = fixture();
    write(join(dist, ".."), {
      "dist/src/c.js": "/**\n * the class Clash of the comment is not a declaration\n */\nexport class Clash {}\n",
      "dist/lib/d.js": "export class Clash {}\n",
      "dist/src/two.js":
        'import { Clash as C } from "./c.js";\nimport { Clash as D } from "../lib/d.js";\nexport const names = [C.name, D.name];\n',
    });
    await expect(bundleDist({ distDir: dist, entries: ["src/two.js"], packages: [] })).rejects.toThrow(
      /class Clash is declared in lib\/d\.js and src\/c\.js/,
    );
    // One class of that name, mentioned in comments elsewhere: bundled, named as declared.
    write(join(dist, ".."), {
      "dist/src/one.js":
        '// a class Clash here is prose\nimport { Clash } from "./c.js";\nexport const name = Clash.name;\n',
    });
    await bundleDist({ distDir: dist, entries: ["src/one.js"], packages: [] });
    expect((await import(pathToFileURL(join(dist, "src/one.js")).href)).name).toBe("Clash");
  });

  it("leaves a bundle alone when run again", async () => {
    const { dist } = fixture();
    await bundleDist({ distDir: dist, entries: ["src/entry.js"], packages: [] });
    const first = readFileSync(join(dist, "src/entry.js"), "utf8");
    const again = await bundleDist({ distDir: dist, entries: ["src/entry.js"], packages: [] });
    expect(again).toEqual({ bundled: [], skipped: ["src/entry.js"] });
    expect(readFileSync(join(dist, "src/entry.js"), "utf8")).toBe(first);
  });

  it("refuses to inline a package that looks for its own files, writing nothing", async () => {
    const { dist } = fixture();
    writeFileSync(join(dist, "src/other.js"), 'export { here } from "looks";\n');
    const before = readFileSync(join(dist, "src/entry.js"), "utf8");
    await expect(
      bundleDist({ distDir: dist, entries: ["src/entry.js", "src/other.js"], packages: ["inlined", "looks"] }),
    ).rejects.toThrow(/looks for its own files/);
    expect(readFileSync(join(dist, "src/entry.js"), "utf8")).toBe(before);
  });
});

/**
 * The bundle is shaped for QuickJS's compiler (bundle.ts, LOWERED_FEATURES): a class field makes
 * QuickJS scan the script from its start to the class, so none may be left past the first few KiB.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_FILE } from "./build-files.js";
import { buildBashBundle } from "./bundle.js";

/** A class field this close to the start costs QuickJS little (none is left today). */
const CHEAP_PREFIX_BYTES = 64 * 1024;

/** Offsets of the class field declarations (public, private, static) in `source`. */
function classFieldOffsets(source: string): number[] {
  const file = ts.createSourceFile("bundle.js", source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const offsets: number[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyDeclaration(node) && ts.isClassLike(node.parent)) offsets.push(node.getStart(file));
    ts.forEachChild(node, visit);
  };
  visit(file);
  return offsets;
}

describe("bash bundle", () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bash-bundle-shape-"));
    await buildBashBundle(dir);
    bundle = await readFile(join(dir, BUNDLE_FILE), "utf8");
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("counts class fields the way QuickJS sees them", () => {
    const native = "var a=1;class A{x=1;static y=2;#z;m(){}}";
    expect(classFieldOffsets(native)).toEqual([native.indexOf("x=1"), native.indexOf("static"), native.indexOf("#z")]);
  });

  it("leaves no class field past the bundle's first 64 KiB", () => {
    const late = classFieldOffsets(bundle).filter((offset) => offset >= CHEAP_PREFIX_BYTES);
    expect(late.map((offset) => bundle.slice(offset, offset + 40))).toEqual([]);
  });

  it("still holds just-bash's classes (the fields moved into constructors, the classes stayed)", () => {
    expect(bundle.length).toBeGreaterThan(1_000_000);
    expect(bundle).toContain("SecurityViolationError");
    expect(bundle).toContain("ERR_BUFFER_TOO_LARGE");
  });
});

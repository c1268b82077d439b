import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { projectFile } from "./project-file.js";

const root = mkdtempSync(join(tmpdir(), "project-file-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("projectFile", () => {
  it("finds a project file from a source module and from its compiled copy under dist", () => {
    mkdirSync(join(root, "wasm/python"), { recursive: true });
    writeFileSync(join(root, "wasm/python/python.wasm"), "x");
    for (const from of ["runtimes/python/artifacts.ts", "dist/runtimes/python/artifacts.js"]) {
      mkdirSync(join(root, from, ".."), { recursive: true });
      const url = pathToFileURL(join(root, from)).href;
      expect(projectFile("wasm/python/python.wasm", url)).toBe(join(root, "wasm/python/python.wasm"));
    }
  });

  it("says what it could not find", () => {
    expect(() => projectFile("wasm/none/missing.wasm", pathToFileURL(join(root, "a/b.ts")).href)).toThrow(
      /wasm\/none\/missing\.wasm not found/,
    );
  });
});

/**
 * The committed CPython artifacts (wasm/python/) match their SHA256SUMS, and SHA256SUMS covers
 * exactly the files the runtime loads.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PYTHON_ARTIFACTS, pythonArtifactPath } from "./artifacts.js";

function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) throw new Error(`malformed SHA256SUMS line: ${line}`);
    sums.set(match[2] as string, match[1] as string);
  }
  return sums;
}

describe("wasm/python artifacts", () => {
  const sums = parseSums(readFileSync(pythonArtifactPath("SHA256SUMS"), "utf8"));

  it("lists exactly the runtime's artifacts", () => {
    expect([...sums.keys()].sort()).toEqual([...Object.values(PYTHON_ARTIFACTS)].sort());
  });

  for (const name of Object.values(PYTHON_ARTIFACTS)) {
    it(`${name} matches its SHA256SUMS entry`, () => {
      const bytes = readFileSync(pythonArtifactPath(name));
      expect(bytes.byteLength).toBeGreaterThan(0);
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(sums.get(name));
    });
  }

  it("python.wasm names CPython's sources by relative paths only (reproducible across build directories)", () => {
    // __FILE__ of assertions and error messages: build.sh configures CPython through ../src/cpython.
    const text = readFileSync(pythonArtifactPath(PYTHON_ARTIFACTS.module)).toString("latin1");
    const names = [...text.matchAll(/[\x21-\x7e]*src\/cpython[\x21-\x7e]*/g)].map((m) => m[0]);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !name.startsWith("../src/cpython"))).toEqual([]);
  });

  it("python.wasm is a WebAssembly module exporting the reactor entry points", async () => {
    const module = await WebAssembly.compile(readFileSync(pythonArtifactPath(PYTHON_ARTIFACTS.module)));
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    for (const name of ["_initialize", "pyreactor_init", "pyreactor_run", "pyreactor_alloc", "memory"]) {
      expect(exports).toContain(name);
    }
    expect(exports).not.toContain("_start");
    const importModules = new Set(WebAssembly.Module.imports(module).map((i) => i.module));
    expect([...importModules]).toEqual(["wasi_snapshot_preview1"]);
  });
});

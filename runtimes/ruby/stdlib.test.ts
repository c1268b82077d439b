import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { File, wasi } from "@bjorn3/browser_wasi_shim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadOnlyFile, VfsDirectory, type VfsOpenDirectory } from "../../wasm/host/wasi-fs.js";
import { decodeStdlib, encodeStdlib, readRubyStdlib, STDLIB_FILE, stdlibPreopen, stdlibTree } from "./stdlib.js";

const text = (s: string) => new TextEncoder().encode(s);
const meta = { packageVersion: "9.9.9", rubyVersion: "3.4.1" };
const entries = [
  { path: "3.4.0" },
  { path: "3.4.0/set.rb", content: text("class Set; end\n") },
  { path: "3.4.0/json" },
  { path: "3.4.0/json/common.rb", content: text("module JSON; end\n") },
  { path: "site_ruby" },
];

const READ = BigInt(wasi.RIGHTS_FD_READ);
const WRITE = BigInt(wasi.RIGHTS_FD_WRITE);

describe("Ruby standard library archive", () => {
  it("round-trips directories, files and the versions it was made from", () => {
    const { index, data } = decodeStdlib(encodeStdlib(meta, entries));
    expect(index).toMatchObject({
      package: "@ruby/3.4-wasm-wasi",
      ...meta,
      directories: ["3.4.0", "3.4.0/json", "site_ruby"],
    });
    const [path, offset, length] = index.files[1] as readonly [string, number, number];
    expect(path).toBe("3.4.0/json/common.rb");
    expect(new TextDecoder().decode(data.subarray(offset, offset + length))).toBe("module JSON; end\n");
  });

  it("refuses bad magic, a truncated file, and paths that leave the tree", () => {
    const good = encodeStdlib(meta, entries);
    const bad = new Uint8Array(good);
    bad[0] = 0;
    expect(() => decodeStdlib(bad)).toThrow(/bad magic/);
    expect(() => decodeStdlib(good.subarray(0, good.byteLength - 3))).toThrow(/truncated/);
    for (const path of ["../etc/passwd", "a//b", "./x", ""]) {
      expect(() => encodeStdlib(meta, [{ path, content: text("x") }])).toThrow(/invalid path/);
    }
  });

  describe("reading the built file", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "ruby-stdlib-"));
      await writeFile(join(dir, STDLIB_FILE), encodeStdlib(meta, entries));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it("reads it into shared memory when asked", async () => {
      const stdlib = await readRubyStdlib("9.9.9", { dirs: [dir], shared: true });
      expect(stdlib.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(stdlib.index.files).toHaveLength(2);
    });

    it("refuses an archive made from another package version, and says how to rebuild", async () => {
      await expect(readRubyStdlib("1.0.0", { dirs: [dir] })).rejects.toThrow(
        /built from .* 9\.9\.9, but 1\.0\.0 .*npm run build/,
      );
    });

    it("names the build step when the archive is missing", async () => {
      await expect(readRubyStdlib("9.9.9", { dirs: [join(dir, "nowhere")] })).rejects.toThrow(
        /not built.*npm run build/,
      );
    });
  });

  describe("as a tree shared by executions", () => {
    const tree = stdlibTree(decodeStdlib(encodeStdlib(meta, entries)));
    const lib = (tree.contents.get("3.4.0") as VfsDirectory).contents;
    const set = lib.get("set.rb") as ReadOnlyFile;
    const preopen = (): VfsOpenDirectory => stdlibPreopen(tree);

    it("serves the files read-only, in read-only directories", () => {
      expect(set).toBeInstanceOf(ReadOnlyFile);
      expect(tree.writable).toBe(false);
      expect(lib.get("json")).toBeInstanceOf(VfsDirectory);
      expect(tree.contents.has("site_ruby")).toBe(true);
      const { ret, fd_obj } = preopen().path_open(0, "3.4.0/set.rb", 0, READ, 0n, 0);
      expect(ret).toBe(wasi.ERRNO_SUCCESS);
      expect(new TextDecoder().decode(fd_obj?.fd_read(100).data)).toBe("class Set; end\n");
    });

    it("refuses to open a file for writing or truncation", () => {
      expect(preopen().path_open(0, "3.4.0/set.rb", 0, READ | WRITE, 0n, 0).ret).toBe(wasi.ERRNO_ROFS);
      expect(preopen().path_open(0, "3.4.0/set.rb", wasi.OFLAGS_TRUNC, READ, 0n, 0).ret).toBe(wasi.ERRNO_ROFS);
    });

    it("refuses every change through a file opened for reading", () => {
      const fd = preopen().path_open(0, "3.4.0/set.rb", 0, READ, 0n, 0).fd_obj;
      if (fd === null) throw new Error("not opened");
      expect(fd.fd_write(text("x")).ret).toBe(wasi.ERRNO_BADF);
      expect(fd.fd_pwrite(text("x"), 0n).ret).toBe(wasi.ERRNO_BADF);
      expect(fd.fd_allocate(0n, 1n << 20n)).toBe(wasi.ERRNO_BADF);
      expect(fd.fd_filestat_set_size(0n)).toBe(wasi.ERRNO_BADF);
      expect(fd.fd_filestat_set_times(0n, 5n, wasi.FSTFLAGS_MTIM)).toBe(wasi.ERRNO_ROFS);
      expect(new TextDecoder().decode(set.data)).toBe("class Set; end\n");
    });

    it("refuses new entries, unlinks, renames and time changes in its directories", () => {
      const dir = preopen();
      const mtimBefore = (lib.get("json") as VfsDirectory).mtim;
      expect(dir.path_open(0, "3.4.0/new.rb", wasi.OFLAGS_CREAT, READ | WRITE, 0n, 0).ret).toBe(wasi.ERRNO_ROFS);
      expect(dir.path_create_directory("3.4.0/newdir")).toBe(wasi.ERRNO_ROFS);
      expect(dir.path_unlink_file("3.4.0/set.rb")).toBe(wasi.ERRNO_ROFS);
      expect(dir.path_remove_directory("site_ruby")).toBe(wasi.ERRNO_ROFS);
      expect(dir.path_unlink("3.4.0/set.rb").ret).toBe(wasi.ERRNO_ROFS);
      expect(dir.path_link("3.4.0/other.rb", new File(text("x")), false)).toBe(wasi.ERRNO_ROFS);
      expect(dir.path_filestat_set_times(0, "3.4.0/json", 0n, 5n, wasi.FSTFLAGS_MTIM)).toBe(wasi.ERRNO_ROFS);
      expect(dir.path_filestat_set_times(0, "3.4.0/set.rb", 0n, 5n, wasi.FSTFLAGS_MTIM)).toBe(wasi.ERRNO_ROFS);
      expect((lib.get("json") as VfsDirectory).mtim).toBe(mtimBefore);
      expect([...lib.keys()].sort()).toEqual(["json", "set.rb"]);
    });
  });
});

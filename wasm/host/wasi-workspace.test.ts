import { wasi } from "@bjorn3/browser_wasi_shim";
import { describe, expect, it } from "vitest";
import { isGuestLimitError } from "./guest-limit.js";
import { ENTRY_OVERHEAD_BYTES, type VfsOpenDirectory, VfsOpenFile } from "./wasi-fs.js";
import { createGuestFilesystem } from "./wasi-workspace.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function setup(quota = 1024, files = [{ path: "input.txt", content: enc("hello") }]) {
  const fs = createGuestFilesystem({ files, maxFilesystemBytes: quota });
  const [root, workspace, tmp] = fs.preopens as [VfsOpenDirectory, VfsOpenDirectory, VfsOpenDirectory];
  const open = (dir: VfsOpenDirectory, path: string, oflags = wasi.OFLAGS_CREAT, fdflags = 0): VfsOpenFile => {
    const { ret, fd_obj } = dir.path_open(0, path, oflags, BigInt(wasi.RIGHTS_FD_WRITE), 0n, fdflags);
    expect(ret).toBe(wasi.ERRNO_SUCCESS);
    expect(fd_obj).toBeInstanceOf(VfsOpenFile);
    return fd_obj as VfsOpenFile;
  };
  return { fs, root, workspace, tmp, open };
}

function limitCode(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return isGuestLimitError(e) ? e.code : `other: ${String(e)}`;
  }
}

describe("guest filesystem layout", () => {
  it("preopens /, /workspace and /tmp and nothing else", () => {
    const { fs } = setup();
    const names = fs.preopens.map((fd) => {
      const { prestat } = fd.fd_prestat_get();
      return prestat ? dec(prestat.inner.pr_name) : null;
    });
    expect(names).toEqual(["/", "/workspace", "/tmp"]);
  });

  it("shows only workspace and tmp under the read-only root", () => {
    const { root } = setup();
    const entries: string[] = [];
    for (let cookie = 0n; ; ) {
      const { dirent } = root.fd_readdir_single(cookie);
      if (!dirent) break;
      entries.push(dec(dirent.dir_name));
      cookie = dirent.d_next;
    }
    expect(entries).toEqual([".", "..", "workspace", "tmp"]);
    expect(root.path_open(0, "etc", wasi.OFLAGS_CREAT, 0n, 0n, 0).ret).toBe(wasi.ERRNO_ROFS);
    expect(root.path_create_directory("bin")).toBe(wasi.ERRNO_ROFS);
    expect(root.path_remove_directory("tmp")).toBe(wasi.ERRNO_ROFS);
    expect(root.path_unlink("workspace").ret).toBe(wasi.ERRNO_ROFS);
    expect(root.path_open(0, "../etc/passwd", 0, 0n, 0n, 0).ret).toBe(wasi.ERRNO_NOTCAPABLE);
  });

  it("lets the guest write through the root into the writable trees", () => {
    const { root, fs } = setup();
    const { ret } = root.path_open(0, "workspace/via-root.txt", wasi.OFLAGS_CREAT, 0n, 0n, 0);
    expect(ret).toBe(wasi.ERRNO_SUCCESS);
    expect(fs.listWorkspace().map((f) => f.path)).toContain("via-root.txt");
  });

  it("lists every regular file under /workspace with its content", () => {
    const { workspace, open, fs } = setup(4096, [
      { path: "input.txt", content: enc("hello") },
      { path: "a/b/c.txt", content: enc("deep") },
    ]);
    expect(workspace.path_create_directory("nested")).toBe(wasi.ERRNO_SUCCESS);
    open(workspace, "nested/new.txt").fd_write(enc("new"));
    const listed = fs.listWorkspace().map((f) => [f.path, dec(f.content)]);
    expect(listed).toEqual([
      ["a/b/c.txt", "deep"],
      ["input.txt", "hello"],
      ["nested/new.txt", "new"],
    ]);
  });
});

describe("file writes", () => {
  it("supports truncate, append, pwrite and set_size with zero fill", () => {
    const { workspace, open, fs } = setup();
    const f = open(workspace, "input.txt", wasi.OFLAGS_TRUNC);
    f.fd_write(enc("abc"));
    open(workspace, "input.txt", 0, wasi.FDFLAGS_APPEND).fd_write(enc("def"));
    f.fd_pwrite(enc("X"), 1n);
    f.fd_filestat_set_size(8n);
    const content = fs.listWorkspace().find((x) => x.path === "input.txt")?.content;
    expect(Array.from(content ?? [])).toEqual([...enc("aXcdef"), 0, 0]);
    f.fd_filestat_set_size(2n);
    f.fd_filestat_set_size(4n);
    expect(Array.from(fs.listWorkspace()[0]?.content ?? [])).toEqual([...enc("aX"), 0, 0]);
  });

  it("reports a real modification time (not 0)", () => {
    const { workspace } = setup();
    const { filestat } = workspace.path_filestat_get(0, "input.txt");
    expect(filestat?.mtim).toBeGreaterThan(1_600_000_000n * 1_000_000_000n);
  });
});

describe("filesystem quota", () => {
  it("throws FILESYSTEM_LIMIT once writes exceed the quota, across /workspace and /tmp", () => {
    const { workspace, tmp, open } = setup(4 * 1024);
    const a = open(workspace, "a.bin");
    expect(limitCode(() => a.fd_write(new Uint8Array(2000)))).toBeNull();
    const b = open(tmp, "b.bin");
    expect(limitCode(() => b.fd_write(new Uint8Array(1500)))).toBeNull();
    expect(limitCode(() => b.fd_write(new Uint8Array(1000)))).toBe("FILESYSTEM_LIMIT");
    expect(limitCode(() => b.fd_filestat_set_size(100_000n))).toBe("FILESYSTEM_LIMIT");
  });

  it("does not count the request's own files, and forgives deleted files", () => {
    const { workspace, open } = setup(3000, [{ path: "big.bin", content: new Uint8Array(100_000) }]);
    const f = open(workspace, "scratch.bin");
    expect(limitCode(() => f.fd_write(new Uint8Array(2000)))).toBeNull();
    expect(workspace.path_unlink_file("scratch.bin")).toBe(wasi.ERRNO_SUCCESS);
    const g = open(workspace, "again.bin");
    expect(limitCode(() => g.fd_write(new Uint8Array(2000)))).toBeNull();
  });

  it("charges every created entry, bounding empty files and directories", () => {
    const { workspace } = setup(ENTRY_OVERHEAD_BYTES * 3);
    expect(workspace.path_create_directory("d1")).toBe(wasi.ERRNO_SUCCESS);
    expect(workspace.path_create_directory("d2")).toBe(wasi.ERRNO_SUCCESS);
    expect(workspace.path_create_directory("d3")).toBe(wasi.ERRNO_SUCCESS);
    expect(limitCode(() => workspace.path_create_directory("d4"))).toBe("FILESYSTEM_LIMIT");
  });
});

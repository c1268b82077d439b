import { existsSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  collectWorkspaceFiles,
  createWorkspaceDir,
  measureWorkspace,
  removeWorkspaceDir,
  writeWorkspaceFiles,
} from "./workspace-dir.js";

const enc = (s: string) => new TextEncoder().encode(s);

describe("workspace dir", () => {
  it("writes nested files and reads them back sorted, skipping symlinks", async () => {
    const dir = await createWorkspaceDir(tmpdir(), undefined);
    try {
      await writeWorkspaceFiles(
        dir,
        [
          { path: "b.txt", content: enc("b") },
          { path: "a/deep/c.txt", content: enc("c") },
        ],
        undefined,
      );
      expect(await readFile(join(dir, "a/deep/c.txt"), "utf8")).toBe("c");
      await symlink("/etc/passwd", join(dir, "link"));
      await symlink("/etc", join(dir, "dirlink"));
      const { files, overQuota } = await collectWorkspaceFiles(dir, 1024);
      expect(overQuota).toBe(false);
      expect(files.map((f) => f.path)).toEqual(["a/deep/c.txt", "b.txt"]);
      expect(new TextDecoder().decode(files[1]?.content)).toBe("b");
    } finally {
      await removeWorkspaceDir(dir);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses paths that leave the workspace", async () => {
    const dir = await createWorkspaceDir(tmpdir(), undefined);
    try {
      await expect(writeWorkspaceFiles(dir, [{ path: "../escape", content: enc("x") }], undefined)).rejects.toThrow(
        RangeError,
      );
      expect(existsSync(join(dir, "..", "escape"))).toBe(false);
    } finally {
      await removeWorkspaceDir(dir);
    }
  });

  it("reports over quota instead of reading past it", async () => {
    const dir = await createWorkspaceDir(tmpdir(), undefined);
    try {
      await writeFile(join(dir, "big"), Buffer.alloc(2000));
      await mkdir(join(dir, "sub"));
      await writeFile(join(dir, "sub", "small"), Buffer.alloc(10));
      expect(await measureWorkspace(dir, 10_000)).toEqual({ bytes: 2010, entries: 3 });
      expect(await collectWorkspaceFiles(dir, 1000)).toEqual({ files: [], overQuota: true });
    } finally {
      await removeWorkspaceDir(dir);
    }
  });
});

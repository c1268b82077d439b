/**
 * The JavaScript guest's filesystem: an in-memory tree with two writable roots, /workspace and /tmp,
 * and nothing of the host. Sizes count against a quota; going over it is a limit hit, not a guest error.
 */

import type { WorkspaceFile } from "../../src/sandbox/types.js";
import { GuestLimitError } from "../../wasm/host/guest-limit.js";

const ROOTS = ["/workspace", "/tmp"] as const;

export class FsError extends Error {
  readonly errno: "ENOENT" | "EISDIR" | "ENOTDIR" | "EEXIST" | "ENOTEMPTY" | "EACCES" | "EINVAL";

  constructor(errno: FsError["errno"], syscall: string, path: string) {
    super(`${errno}: ${describe(errno)}, ${syscall} '${path}'`);
    this.errno = errno;
  }
}

function describe(errno: FsError["errno"]): string {
  switch (errno) {
    case "ENOENT":
      return "no such file or directory";
    case "EISDIR":
      return "illegal operation on a directory";
    case "ENOTDIR":
      return "not a directory";
    case "EEXIST":
      return "file already exists";
    case "ENOTEMPTY":
      return "directory not empty";
    case "EACCES":
      return "permission denied";
    case "EINVAL":
      return "invalid argument";
  }
}

export interface Stat {
  readonly kind: "file" | "directory";
  readonly size: number;
}

export class VirtualFs {
  private readonly files = new Map<string, Uint8Array>();
  private readonly dirs = new Set<string>(["/", ...ROOTS]);
  private usedBytes = 0;
  private readonly quotaBytes: number;

  constructor(initial: readonly WorkspaceFile[], maxFilesystemBytes: number) {
    let inputBytes = 0;
    for (const file of initial) {
      const path = `/workspace/${file.path}`;
      this.ensureParents(path);
      this.files.set(path, file.content);
      inputBytes += file.content.byteLength;
    }
    this.usedBytes = inputBytes;
    this.quotaBytes = inputBytes + maxFilesystemBytes;
  }

  /** Resolve a guest path (relative paths are relative to /workspace) to a normalised absolute path. */
  resolve(path: string): string {
    if (path.includes("\0")) throw new FsError("EINVAL", "open", path);
    const absolute = path.startsWith("/") ? path : `/workspace/${path}`;
    const out: string[] = [];
    for (const segment of absolute.split("/")) {
      if (segment === "" || segment === ".") continue;
      if (segment === "..") out.pop();
      else out.push(segment);
    }
    return `/${out.join("/")}`;
  }

  stat(path: string): Stat {
    const p = this.resolve(path);
    const file = this.files.get(p);
    if (file) return { kind: "file", size: file.byteLength };
    if (this.dirs.has(p)) return { kind: "directory", size: 0 };
    throw new FsError("ENOENT", "stat", path);
  }

  readFile(path: string): Uint8Array {
    const p = this.resolve(path);
    const file = this.files.get(p);
    if (file) return file;
    if (this.dirs.has(p)) throw new FsError("EISDIR", "read", path);
    throw new FsError("ENOENT", "open", path);
  }

  writeFile(path: string, data: Uint8Array, append: boolean): void {
    const p = this.writablePath(path, "open");
    if (this.dirs.has(p)) throw new FsError("EISDIR", "open", path);
    const parent = parentOf(p);
    if (!this.dirs.has(parent)) throw new FsError("ENOENT", "open", path);
    const old = this.files.get(p);
    const next = append && old ? concat(old, data) : data.slice();
    this.charge(next.byteLength - (old?.byteLength ?? 0));
    this.files.set(p, next);
  }

  mkdir(path: string, recursive: boolean): void {
    const p = this.writablePath(path, "mkdir");
    if (this.files.has(p)) throw new FsError("EEXIST", "mkdir", path);
    if (this.dirs.has(p)) {
      if (recursive) return;
      throw new FsError("EEXIST", "mkdir", path);
    }
    if (!this.dirs.has(parentOf(p))) {
      if (!recursive) throw new FsError("ENOENT", "mkdir", path);
      this.ensureParents(p);
    }
    this.dirs.add(p);
  }

  readdir(path: string): string[] {
    const p = this.resolve(path);
    if (!this.dirs.has(p)) {
      throw new FsError(this.files.has(p) ? "ENOTDIR" : "ENOENT", "scandir", path);
    }
    const prefix = p === "/" ? "/" : `${p}/`;
    const names = new Set<string>();
    for (const entry of [...this.files.keys(), ...this.dirs]) {
      if (entry !== p && entry.startsWith(prefix)) {
        const name = entry.slice(prefix.length).split("/")[0];
        if (name) names.add(name);
      }
    }
    return [...names].sort();
  }

  remove(path: string, options: { recursive: boolean; directory: boolean }): void {
    const p = this.writablePath(path, "rm");
    const file = this.files.get(p);
    if (file) {
      this.files.delete(p);
      this.usedBytes -= file.byteLength;
      return;
    }
    if (!this.dirs.has(p)) throw new FsError("ENOENT", "rm", path);
    if (!options.directory) throw new FsError("EISDIR", "unlink", path);
    if ((ROOTS as readonly string[]).includes(p)) throw new FsError("EACCES", "rm", path);
    const children = this.readdir(p);
    if (children.length > 0 && !options.recursive) throw new FsError("ENOTEMPTY", "rmdir", path);
    for (const child of children) this.remove(`${p}/${child}`, { recursive: true, directory: true });
    this.dirs.delete(p);
  }

  rename(from: string, to: string): void {
    const src = this.writablePath(from, "rename");
    const dst = this.writablePath(to, "rename");
    const file = this.files.get(src);
    if (!file) throw new FsError(this.dirs.has(src) ? "EISDIR" : "ENOENT", "rename", from);
    if (!this.dirs.has(parentOf(dst))) throw new FsError("ENOENT", "rename", to);
    const replaced = this.files.get(dst);
    this.files.delete(src);
    if (replaced) this.usedBytes -= replaced.byteLength;
    this.files.set(dst, file);
  }

  /** Every regular file under /workspace, as workspace-relative paths. */
  workspaceFiles(): WorkspaceFile[] {
    const out: WorkspaceFile[] = [];
    for (const [path, content] of this.files) {
      if (path.startsWith("/workspace/")) out.push({ path: path.slice("/workspace/".length), content });
    }
    return out;
  }

  private writablePath(path: string, syscall: string): string {
    const p = this.resolve(path);
    if (!ROOTS.some((root) => p === root || p.startsWith(`${root}/`))) {
      throw new FsError(this.dirs.has(p) || this.files.has(p) ? "EACCES" : "ENOENT", syscall, path);
    }
    return p;
  }

  private ensureParents(path: string): void {
    let dir = parentOf(path);
    const missing: string[] = [];
    while (!this.dirs.has(dir)) {
      if (this.files.has(dir)) throw new FsError("ENOTDIR", "mkdir", dir);
      missing.push(dir);
      dir = parentOf(dir);
    }
    for (const d of missing) this.dirs.add(d);
  }

  private charge(deltaBytes: number): void {
    if (this.usedBytes + deltaBytes > this.quotaBytes) {
      throw new GuestLimitError("FILESYSTEM_LIMIT", "filesystem quota exceeded");
    }
    this.usedBytes += deltaBytes;
  }
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

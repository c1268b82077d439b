/**
 * The in-memory guest filesystem, built on browser_wasi_shim's classes:
 * - every byte written by the guest is charged to one FsQuota (GuestLimitError FILESYSTEM_LIMIT when
 *   exceeded: the guest is stopped, it cannot catch and ignore it);
 * - a directory is writable or not: a read-only directory refuses new entries, unlinks and renames
 *   directly inside it (ERRNO_ROFS), which keeps the virtual root fixed;
 * - files grow by doubling (the shim reallocates on every write) and carry a modification time.
 * Nothing here reaches the host filesystem.
 */
import { Directory, File, type Inode, OpenDirectory, OpenFile, wasi } from "@bjorn3/browser_wasi_shim";
import { GuestLimitError } from "./guest-limit.js";

/** What one directory entry costs against the quota, on top of its bytes. Bounds the entry count. */
export const ENTRY_OVERHEAD_BYTES = 256;

export class FsQuota {
  private usedBytes = 0;

  /** `recount` returns the exact current usage; called before refusing a write, so deleted files are forgiven. */
  constructor(
    readonly limitBytes: number,
    private readonly recount: () => number,
  ) {}

  get used(): number {
    return this.usedBytes;
  }

  /** Account for `delta` more bytes; throws GuestLimitError(FILESYSTEM_LIMIT) if the quota would be exceeded. */
  charge(delta: number): void {
    if (delta <= 0 || this.usedBytes + delta <= this.limitBytes) {
      this.usedBytes = Math.max(0, this.usedBytes + delta);
      return;
    }
    this.usedBytes = this.recount();
    if (this.usedBytes + delta > this.limitBytes) {
      throw new GuestLimitError(
        "FILESYSTEM_LIMIT",
        `the guest exceeded its filesystem quota of ${this.limitBytes} bytes`,
      );
    }
    this.usedBytes += delta;
  }
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A regular file whose growth is charged to a quota. */
export class VfsFile extends File {
  mtim: bigint;
  private backing: Uint8Array;

  constructor(
    content: Uint8Array,
    readonly quota: FsQuota,
  ) {
    super(new ArrayBuffer(0));
    this.backing = new Uint8Array(content);
    this.data = this.backing;
    this.mtim = nowNs();
  }

  /** Change the size: growth is charged (and may throw), shrinking zeroes the tail and refunds. */
  resize(size: number): void {
    const old = this.data.byteLength;
    if (size === old) return;
    if (size > old) {
      this.quota.charge(size - old);
      if (size > this.backing.byteLength) {
        const grown = new Uint8Array(Math.max(size, Math.min(this.backing.byteLength * 2, size + 64 * 1024 * 1024)));
        grown.set(this.data);
        this.backing = grown;
      }
    } else {
      this.backing.fill(0, size, old);
      this.quota.charge(size - old);
    }
    this.data = this.backing.subarray(0, size);
    this.mtim = nowNs();
  }

  writeAt(offset: number, bytes: Uint8Array): number {
    const end = offset + bytes.byteLength;
    if (end > this.data.byteLength) this.resize(end);
    this.data.set(bytes, offset);
    this.mtim = nowNs();
    return bytes.byteLength;
  }

  override path_open(oflags: number, _fs_rights_base: bigint, fd_flags: number): { ret: number; fd_obj: OpenFile } {
    if ((oflags & wasi.OFLAGS_TRUNC) === wasi.OFLAGS_TRUNC) this.resize(0);
    return { ret: wasi.ERRNO_SUCCESS, fd_obj: new VfsOpenFile(this, (fd_flags & wasi.FDFLAGS_APPEND) !== 0) };
  }

  override stat(): wasi.Filestat {
    const st = super.stat();
    st.atim = this.mtim;
    st.mtim = this.mtim;
    st.ctim = this.mtim;
    return st;
  }
}

export class VfsOpenFile extends OpenFile {
  declare file: VfsFile;

  constructor(
    file: VfsFile,
    private readonly append: boolean,
  ) {
    super(file);
    if (append) this.file_pos = file.size;
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    if (this.append) this.file_pos = this.file.size;
    const n = this.file.writeAt(Number(this.file_pos), data);
    this.file_pos += BigInt(n);
    return { ret: wasi.ERRNO_SUCCESS, nwritten: n };
  }

  override fd_pwrite(data: Uint8Array, offset: bigint): { ret: number; nwritten: number } {
    return { ret: wasi.ERRNO_SUCCESS, nwritten: this.file.writeAt(Number(offset), data) };
  }

  override fd_allocate(offset: bigint, len: bigint): number {
    const end = Number(offset + len);
    if (end > this.file.data.byteLength) this.file.resize(end);
    return wasi.ERRNO_SUCCESS;
  }

  override fd_filestat_set_size(size: bigint): number {
    this.file.resize(Number(size));
    return wasi.ERRNO_SUCCESS;
  }

  override fd_filestat_set_times(_atim: bigint, mtim: bigint, fst_flags: number): number {
    this.file.mtim = pickTime(this.file.mtim, mtim, fst_flags);
    return wasi.ERRNO_SUCCESS;
  }
}

/**
 * A file of a read-only tree that many executions share (Ruby's standard library, the same objects
 * for every execution of a worker): nothing the guest does can change it or anything visible in it.
 * Opening it for writing or with O_TRUNC is refused (EROFS), and its open files refuse writes,
 * resizes, allocation and time changes, which the shim's OpenFile would carry out on the shared
 * object (it replaces `data` without checking `readonly`).
 */
export class ReadOnlyFile extends File {
  constructor(content: Uint8Array) {
    super(new ArrayBuffer(0), { readonly: true });
    this.data = content;
  }

  override path_open(oflags: number, fs_rights_base: bigint, _fd_flags: number): { ret: number; fd_obj: OpenFile } {
    const write = (fs_rights_base & BigInt(wasi.RIGHTS_FD_WRITE)) !== 0n;
    // The shim's own File returns a null fd_obj with an error too; its typings leave that out.
    if (write || (oflags & wasi.OFLAGS_TRUNC) !== 0)
      return { ret: wasi.ERRNO_ROFS, fd_obj: null as unknown as OpenFile };
    return { ret: wasi.ERRNO_SUCCESS, fd_obj: new ReadOnlyOpenFile(this) };
  }
}

class ReadOnlyOpenFile extends OpenFile {
  override fd_write(): { ret: number; nwritten: number } {
    return { ret: wasi.ERRNO_BADF, nwritten: 0 };
  }

  override fd_pwrite(): { ret: number; nwritten: number } {
    return { ret: wasi.ERRNO_BADF, nwritten: 0 };
  }

  override fd_allocate(): number {
    return wasi.ERRNO_BADF;
  }

  override fd_filestat_set_size(): number {
    return wasi.ERRNO_BADF;
  }

  override fd_filestat_set_times(): number {
    return wasi.ERRNO_ROFS;
  }
}

function pickTime(current: bigint, requested: bigint, fstFlags: number): bigint {
  if (fstFlags & wasi.FSTFLAGS_MTIM_NOW) return nowNs();
  if (fstFlags & wasi.FSTFLAGS_MTIM) return requested;
  return current;
}

type ParsedPath = { parts: string[]; isDir: boolean } | { errno: number };

/** Parse a guest path relative to a directory fd, as the shim does: no absolute paths, no escaping above the fd. */
export function parseRelativePath(path: string): ParsedPath {
  if (path.startsWith("/")) return { errno: wasi.ERRNO_NOTCAPABLE };
  if (path.includes("\0")) return { errno: wasi.ERRNO_INVAL };
  const parts: string[] = [];
  for (const c of path.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (parts.pop() === undefined) return { errno: wasi.ERRNO_NOTCAPABLE };
      continue;
    }
    parts.push(c);
  }
  return { parts, isDir: path.endsWith("/") };
}

/** A directory of the guest tree. `quota` null means read-only. */
export class VfsDirectory extends Directory {
  mtim: bigint = nowNs();

  constructor(
    contents: Map<string, Inode>,
    readonly quota: FsQuota | null,
  ) {
    super(contents);
  }

  get writable(): boolean {
    return this.quota !== null;
  }

  /** The directory that holds the last component of `parts`, if it exists. */
  parentOf(parts: readonly string[]): Inode | undefined {
    let entry: Inode = this;
    for (const part of parts.slice(0, -1)) {
      if (!(entry instanceof Directory)) return undefined;
      const child: Inode | undefined = entry.contents.get(part);
      if (child === undefined) return undefined;
      entry = child;
    }
    return entry;
  }

  override create_entry_for_path(path_str: string, is_dir: boolean): { ret: number; entry: Inode | null } {
    const parsed = parseRelativePath(path_str);
    if ("errno" in parsed) return { ret: parsed.errno, entry: null };
    const name = parsed.parts.at(-1);
    if (name === undefined) return { ret: wasi.ERRNO_INVAL, entry: null };
    const parent = this.parentOf(parsed.parts);
    if (parent === undefined) return { ret: wasi.ERRNO_NOENT, entry: null };
    if (!(parent instanceof Directory)) return { ret: wasi.ERRNO_NOTDIR, entry: null };
    if (!(parent instanceof VfsDirectory) || parent.quota === null) return { ret: wasi.ERRNO_ROFS, entry: null };
    if (parent.contents.has(name)) return { ret: wasi.ERRNO_EXIST, entry: null };
    parent.quota.charge(ENTRY_OVERHEAD_BYTES);
    const child = is_dir ? new VfsDirectory(new Map(), parent.quota) : new VfsFile(new Uint8Array(), parent.quota);
    parent.contents.set(name, child);
    parent.mtim = nowNs();
    return { ret: wasi.ERRNO_SUCCESS, entry: child };
  }

  override path_open(): { ret: number; fd_obj: OpenDirectory } {
    return { ret: wasi.ERRNO_SUCCESS, fd_obj: new VfsOpenDirectory(this) };
  }

  override stat(): wasi.Filestat {
    const st = super.stat();
    st.atim = this.mtim;
    st.mtim = this.mtim;
    st.ctim = this.mtim;
    return st;
  }
}

/** An open directory that refuses to change the entries of a read-only directory. */
export class VfsOpenDirectory extends OpenDirectory {
  declare dir: VfsDirectory;

  /** ERRNO_ROFS when the entry named by `path` sits in a read-only directory, else null. */
  private readOnlyParent(path: string): number | null {
    const parsed = parseRelativePath(path);
    if ("errno" in parsed) return parsed.errno;
    const parent = this.dir.parentOf(parsed.parts);
    if (parent instanceof VfsDirectory && !parent.writable) return wasi.ERRNO_ROFS;
    if (parent instanceof Directory && !(parent instanceof VfsDirectory)) return wasi.ERRNO_ROFS;
    return null;
  }

  override path_link(path_str: string, inode: Inode, allow_dir: boolean): number {
    return this.readOnlyParent(path_str) ?? super.path_link(path_str, inode, allow_dir);
  }

  override path_unlink(path_str: string): { ret: number; inode_obj: Inode | null } {
    const denied = this.readOnlyParent(path_str);
    return denied === null ? super.path_unlink(path_str) : { ret: denied, inode_obj: null };
  }

  override path_unlink_file(path_str: string): number {
    return this.readOnlyParent(path_str) ?? super.path_unlink_file(path_str);
  }

  override path_remove_directory(path_str: string): number {
    return this.readOnlyParent(path_str) ?? super.path_remove_directory(path_str);
  }

  override path_filestat_set_times(
    _flags: number,
    path: string,
    _atim: bigint,
    mtim: bigint,
    fst_flags: number,
  ): number {
    const parsed = parseRelativePath(path);
    if ("errno" in parsed) return parsed.errno;
    const parent = this.dir.parentOf(parsed.parts);
    const name = parsed.parts.at(-1);
    const entry = name === undefined ? this.dir : parent instanceof Directory ? parent.contents.get(name) : undefined;
    if (entry === undefined) return wasi.ERRNO_NOENT;
    // A read-only directory's times are as fixed as its entries (it may be shared, ReadOnlyFile).
    if (entry instanceof VfsFile || (entry instanceof VfsDirectory && entry.writable)) {
      entry.mtim = pickTime(entry.mtim, mtim, fst_flags);
      return wasi.ERRNO_SUCCESS;
    }
    return wasi.ERRNO_ROFS;
  }
}

/** A directory handed to the guest as a preopen under an absolute name. */
export class VfsPreopen extends VfsOpenDirectory {
  constructor(
    readonly prestatName: string,
    dir: VfsDirectory,
  ) {
    super(dir);
  }

  override fd_prestat_get(): { ret: number; prestat: wasi.Prestat | null } {
    return { ret: wasi.ERRNO_SUCCESS, prestat: wasi.Prestat.dir(this.prestatName) };
  }
}

/** Exact quota usage of a tree: file bytes plus the per-entry overhead. */
export function treeUsage(dir: Directory): number {
  let total = 0;
  for (const entry of dir.contents.values()) {
    total += ENTRY_OVERHEAD_BYTES;
    if (entry instanceof File) total += entry.data.byteLength;
    else if (entry instanceof Directory) total += treeUsage(entry);
  }
  return total;
}

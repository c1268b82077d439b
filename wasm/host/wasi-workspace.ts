/**
 * The guest's filesystem for one execution:
 *
 *   /            read-only, holds only the two directories below
 *   /workspace   the cwd: the request's files and the script, writable
 *   /tmp         empty, writable
 *
 * Nothing of the host is visible. Writes to /workspace and /tmp share one quota of
 * `maxFilesystemBytes`: the tree may grow by at most that many bytes over what the request brought
 * (file bytes plus ENTRY_OVERHEAD_BYTES per created entry). Exceeding it throws
 * GuestLimitError("FILESYSTEM_LIMIT") from the write, which stops the guest: it cannot catch an
 * ENOSPC and carry on, and the outcome is always FILESYSTEM_LIMIT.
 */
import type { Fd, Inode } from "@bjorn3/browser_wasi_shim";
import { WORKSPACE, type WorkspaceFile } from "../../src/sandbox/types.js";
import { FsQuota, treeUsage, VfsDirectory, VfsFile, VfsPreopen } from "./wasi-fs.js";

export const TMP = "/tmp";

export interface GuestFilesystemOptions {
  /** Files placed in /workspace before the run; paths are already normalised and relative. */
  readonly files: readonly WorkspaceFile[];
  readonly maxFilesystemBytes: number;
}

export interface GuestFilesystem {
  /** Preopened directories, in the order they must be given to WASI (fd 3, 4, 5): /, /workspace, /tmp. */
  readonly preopens: readonly Fd[];
  readonly quota: FsQuota;
  /** Create or replace a file under /workspace without charging the quota (host-side setup). */
  putFile(path: string, content: Uint8Array): void;
  /** Every regular file under /workspace, sorted by path. */
  listWorkspace(): WorkspaceFile[];
}

export function createGuestFilesystem(options: GuestFilesystemOptions): GuestFilesystem {
  let baseline = 0;
  // The quota object is needed by the directories; usage is measured over both writable trees.
  const quota: FsQuota = new FsQuota(options.maxFilesystemBytes, () => usage() - baseline);
  const workspace = new VfsDirectory(new Map(), quota);
  const tmp = new VfsDirectory(new Map(), quota);
  const root = new VfsDirectory(
    new Map<string, Inode>([
      [WORKSPACE.slice(1), workspace],
      [TMP.slice(1), tmp],
    ]),
    null,
  );
  const usage = (): number => treeUsage(workspace) + treeUsage(tmp);

  const putFile = (path: string, content: Uint8Array): void => {
    const parts = path.split("/");
    const name = parts.pop();
    if (!name) throw new Error(`invalid workspace path ${JSON.stringify(path)}`);
    let dir = workspace;
    for (const part of parts) {
      let next = dir.contents.get(part);
      if (next === undefined) {
        next = new VfsDirectory(new Map(), quota);
        dir.contents.set(part, next);
      }
      if (!(next instanceof VfsDirectory)) throw new Error(`${JSON.stringify(path)} crosses a file`);
      dir = next;
    }
    dir.contents.set(name, new VfsFile(content, quota));
    baseline = usage();
  };

  for (const file of options.files) putFile(file.path, file.content);

  return {
    preopens: [new VfsPreopen("/", root), new VfsPreopen(WORKSPACE, workspace), new VfsPreopen(TMP, tmp)],
    quota,
    putFile,
    listWorkspace: () => listFiles(workspace, ""),
  };
}

function listFiles(dir: VfsDirectory, prefix: string): WorkspaceFile[] {
  const out: WorkspaceFile[] = [];
  for (const [name, entry] of dir.contents) {
    const path = prefix === "" ? name : `${prefix}/${name}`;
    if (entry instanceof VfsFile) out.push({ path, content: entry.data.slice() });
    else if (entry instanceof VfsDirectory) out.push(...listFiles(entry, path));
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

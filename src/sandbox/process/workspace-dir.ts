/**
 * The host directory behind /workspace for one execution: created fresh (mode 0700, owned by the
 * guest's host uid when there is one), filled with the request's files and the script, measured
 * while the guest runs, read back afterwards, and removed.
 *
 * Reading back never follows a symlink (symlinks are skipped, so a link to /etc/shadow yields nothing),
 * only regular files are returned, and reading stops at the quota.
 */
import { constants } from "node:fs";
import { chmod, chown, lstat, mkdir, mkdtemp, open, readdir, rm, writeFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { WorkspaceFile } from "../types.js";
import { normaliseWorkspacePath } from "../workspace.js";

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** A workspace holding more entries than this is over quota whatever their size. */
export const MAX_WORKSPACE_ENTRIES = 10_000;

export async function createWorkspaceDir(baseDir: string, owner: Owner | undefined): Promise<string> {
  const dir = await mkdtemp(join(baseDir, "inline-sandbox-ws-"));
  await chmod(dir, 0o700);
  if (owner !== undefined) await chown(dir, owner.uid, owner.gid);
  return dir;
}

/** Write files (paths relative to the workspace); creates parent dirs with the same owner. */
export async function writeWorkspaceFiles(
  dir: string,
  files: readonly WorkspaceFile[],
  owner: Owner | undefined,
): Promise<void> {
  for (const file of files) {
    const rel = normaliseWorkspacePath(file.path);
    if (rel === null) throw new RangeError(`workspace path escapes the workspace: ${file.path}`);
    const parts = rel.split("/");
    let current = dir;
    for (const part of parts.slice(0, -1)) {
      current = join(current, part);
      const existing = await lstat(current).catch(() => null);
      if (existing === null) {
        await mkdir(current, { mode: 0o755 });
        if (owner !== undefined) await chown(current, owner.uid, owner.gid);
      } else if (!existing.isDirectory()) {
        throw new RangeError(`workspace path crosses a non-directory: ${file.path}`);
      }
    }
    const target = join(dir, ...parts);
    await writeFile(target, file.content, { mode: 0o644, flag: "w" });
    if (owner !== undefined) await chown(target, owner.uid, owner.gid);
  }
}

export interface WorkspaceUsage {
  readonly bytes: number;
  readonly entries: number;
}

/** Total size of regular files and count of entries, never following symlinks; stops early past the caps. */
export async function measureWorkspace(dir: string, maxBytes: number): Promise<WorkspaceUsage> {
  let bytes = 0;
  let entries = 0;
  const stack = [dir];
  while (stack.length > 0 && bytes <= maxBytes && entries <= MAX_WORKSPACE_ENTRIES) {
    const current = stack.pop() as string;
    const list = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of list) {
      entries++;
      const path = join(current, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.isFile()) bytes += (await lstat(path).catch(() => null))?.size ?? 0;
    }
  }
  return { bytes, entries };
}

export function overQuota(usage: WorkspaceUsage, maxBytes: number): boolean {
  return usage.bytes > maxBytes || usage.entries > MAX_WORKSPACE_ENTRIES;
}

export interface CollectedFiles {
  readonly files: WorkspaceFile[];
  readonly overQuota: boolean;
}

/** Every regular file under `dir` with its bytes, sorted by path; stops (overQuota) past maxBytes. */
export async function collectWorkspaceFiles(dir: string, maxBytes: number): Promise<CollectedFiles> {
  const usage = await measureWorkspace(dir, maxBytes);
  if (overQuota(usage, maxBytes)) return { files: [], overQuota: true };
  const files: WorkspaceFile[] = [];
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        stack.push(path);
        continue;
      }
      if (!entry.isFile()) continue;
      const content = await readNoFollow(path, maxBytes - total);
      if (content === null) return { files: [], overQuota: true };
      total += content.byteLength;
      files.push({ path: relative(dir, path).split(sep).join("/"), content });
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, overQuota: false };
}

/** Read a regular file without following a final symlink; null when it holds more than `budget` bytes. */
async function readNoFollow(path: string, budget: number): Promise<Uint8Array | null> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return new Uint8Array(0);
    if (stat.size > budget) return null;
    const buffer = Buffer.alloc(stat.size);
    let offset = 0;
    while (offset < stat.size) {
      const { bytesRead } = await handle.read(buffer, offset, stat.size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, offset);
  } finally {
    await handle.close();
  }
}

/** Remove the workspace; a guest may have made dirs unwritable, so restore write access and retry. */
export async function removeWorkspaceDir(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    await makeWritable(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  const list = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of list) if (entry.isDirectory()) await makeWritable(join(dir, entry.name));
}

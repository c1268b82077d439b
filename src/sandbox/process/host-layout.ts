/**
 * What of the host filesystem a process sandbox shows, decided once at startup:
 * the system library dirs (as binds or, on merged-/usr hosts, as the same symlinks) and a private
 * /etc synthesized into a host dir (passwd/group naming the sandbox user, hosts, nsswitch), plus the
 * host's /etc/ld.so.cache so the dynamic loader finds libraries quickly.
 */

import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WORKSPACE } from "../types.js";
import { type EtcFile, SANDBOX_GID, SANDBOX_HOSTNAME, SANDBOX_UID, type SystemMount } from "./bwrap-args.js";

/** Library dirs the interpreters load from (their shared libs and stdlibs: /usr/lib/python3.x, /usr/lib/ruby). */
export const DEFAULT_LIBRARY_PATHS: readonly string[] = Object.freeze([
  "/usr/lib",
  "/usr/lib64",
  "/usr/lib32",
  "/lib",
  "/lib64",
  "/lib32",
]);

/** Each existing path as the host has it: a directory becomes a read-only bind, a symlink stays a symlink. */
export function systemMounts(paths: readonly string[]): SystemMount[] {
  const out: SystemMount[] = [];
  for (const path of paths) {
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) out.push({ kind: "symlink", path, target: readlinkSync(path) });
    else if (stat.isDirectory()) out.push({ kind: "ro-bind", path });
  }
  return out;
}

export interface EtcDir extends AsyncDisposable {
  readonly dir: string;
  readonly files: readonly EtcFile[];
}

/** Write the synthesized /etc into a fresh host dir (world-readable: the guest's host uid must read it). */
export async function createEtcDir(baseDir: string = tmpdir()): Promise<EtcDir> {
  const dir = await mkdtemp(join(baseDir, "inline-sandbox-etc-"));
  await chmod(dir, 0o755);
  const contents: Record<string, string> = {
    passwd: `root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nsandbox:x:${SANDBOX_UID}:${SANDBOX_GID}:sandbox:${WORKSPACE}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nsandbox:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`,
    hosts: `127.0.0.1 localhost ${SANDBOX_HOSTNAME}\n::1 localhost\n`,
    hostname: `${SANDBOX_HOSTNAME}\n`,
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
  };
  const files: EtcFile[] = [];
  for (const [name, text] of Object.entries(contents)) {
    const hostPath = join(dir, name);
    await writeFile(hostPath, text, { mode: 0o644 });
    await chmod(hostPath, 0o644);
    files.push({ hostPath, sandboxPath: `/etc/${name}` });
  }
  if (existsSync("/etc/ld.so.cache")) files.push({ hostPath: "/etc/ld.so.cache", sandboxPath: "/etc/ld.so.cache" });
  return {
    dir,
    files,
    async [Symbol.asyncDispose]() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The descendants of a host process, read from /proc (each /proc/<pid>/stat is world-readable).
 * Used to deliver the polite SIGTERM to a guest that runs under a wrapper (bwrap), where a process
 * group signal would miss it (the guest is in its own session).
 */
import { readdir, readFile } from "node:fs/promises";

/** Parent pid from the text of /proc/<pid>/stat; the command name may contain spaces and parentheses. */
export function parseParentPid(stat: string): number | null {
  const end = stat.lastIndexOf(")");
  if (end < 0) return null;
  const fields = stat.slice(end + 2).split(" ");
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

/** Every live descendant of `root` (not `root` itself), parents before children. */
export async function descendants(root: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^\d+$/.test(entry)) return;
      try {
        const ppid = parseParentPid(await readFile(`/proc/${entry}/stat`, "utf8"));
        if (ppid === null) return;
        const list = children.get(ppid) ?? [];
        list.push(Number(entry));
        children.set(ppid, list);
      } catch {
        // exited while we looked
      }
    }),
  );
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Send a signal, ignoring processes that are already gone. */
export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone; EPERM cannot happen for our own children
  }
}

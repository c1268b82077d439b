/**
 * Finding the host binaries a sandbox may expose, and how each one is mounted.
 *
 * Binaries are looked up on a fixed, trusted search path (never the server's PATH, which may start
 * with a version manager's shims under /root). On the reference host (Debian 12) that gives
 * /usr/bin/node, /usr/bin/ruby -> ruby3.1, /usr/bin/bash and Debian's /usr/bin/python3 -> python3.11,
 * not the pyenv shim /root/.pyenv/shims/python3 that comes first on root's PATH (a shell script that
 * would need pyenv and /root inside the sandbox). An interpreter installed under its own prefix
 * (e.g. /usr/local or /opt/x) gets that prefix bound read-only; /root and /home never are. Each one is resolved to its real file, so symlinks and
 * Debian alternatives need no /etc/alternatives inside the sandbox.
 */
import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";

/** Debian's own interpreters come first; /usr/local is for deliberately installed ones. */
export const DEFAULT_SEARCH_PATH: readonly string[] = Object.freeze(["/usr/local/bin", "/usr/bin", "/bin"]);

/** The directory inside the sandbox where allowed binaries appear (PATH inside is this plus /bin). */
export const SANDBOX_BIN_DIR = "/usr/bin";

/**
 * Basic tools visible next to the interpreter unless configured otherwise. Everything else on the
 * host is invisible (deny by default).
 */
export const DEFAULT_ALLOWED_TOOLS: readonly string[] = Object.freeze([
  "sh",
  "cat",
  "ls",
  "echo",
  "head",
  "tail",
  "wc",
  "sort",
  "uniq",
  "cut",
  "tr",
  "tee",
  "mkdir",
  "rm",
  "rmdir",
  "cp",
  "mv",
  "touch",
  "date",
  "sleep",
  "env",
  "true",
  "false",
  "printf",
  "basename",
  "dirname",
  "seq",
  "id",
  "pwd",
  "uname",
  "stat",
  "grep",
  "sed",
]);

/** Prefixes that are never bound wholesale, even when an interpreter lives under them. */
const NEVER_BIND_PREFIX = new Set(["/", "/usr", "/home", "/root", "/etc", "/var", "/tmp", "/opt", "/srv", "/run"]);

export interface BinaryMount {
  /** Name inside the sandbox (`/usr/bin/<name>`). */
  readonly name: string;
  /** The real file on the host. */
  readonly hostPath: string;
  /**
   * How it appears inside: `file` binds the real file at /usr/bin/<name>; `prefix` binds an
   * installation prefix read-only at the same path and links /usr/bin/<name> to the real file
   * (interpreters installed outside /usr find their stdlib relative to themselves).
   */
  readonly mount: { readonly kind: "file" } | { readonly kind: "prefix"; readonly prefix: string };
}

/** Resolve `name` on `searchPath` to its real executable file, or null when absent. */
export function findBinary(name: string, searchPath: readonly string[]): string | null {
  if (name.length === 0 || name.includes("/") || name.includes("\0")) return null;
  for (const dir of searchPath) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      const real = realpathSync(candidate);
      if (statSync(real).isFile()) return real;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

/** Plan how one resolved binary is mounted. */
export function planBinaryMount(name: string, realPath: string): BinaryMount {
  const binDir = dirname(realPath);
  if (binDir === "/usr/bin" || binDir === "/bin" || binDir === "/usr/sbin" || binDir === "/sbin") {
    return { name, hostPath: realPath, mount: { kind: "file" } };
  }
  const prefix = basename(binDir) === "bin" ? dirname(binDir) : binDir;
  if (NEVER_BIND_PREFIX.has(prefix)) return { name, hostPath: realPath, mount: { kind: "file" } };
  return { name, hostPath: realPath, mount: { kind: "prefix", prefix } };
}

/** Resolve every name that exists; missing ones are skipped (the caller decides if that matters). */
export function resolveBinaries(names: readonly string[], searchPath: readonly string[]): BinaryMount[] {
  const seen = new Set<string>();
  const out: BinaryMount[] = [];
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const real = findBinary(name, searchPath);
    if (real !== null) out.push(planBinaryMount(name, real));
  }
  return out;
}

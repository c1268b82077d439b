/**
 * The bubblewrap command line for one execution, built as pure data so it can be unit-tested.
 *
 * The sandbox's root is an empty tmpfs, remounted read-only, holding only:
 * - the system library dirs, read-only (/usr/lib, /usr/lib64; /lib and /lib64 as the host has them),
 * - /usr/bin with exactly the allowed binaries (each bound individually), /bin -> usr/bin,
 * - /etc with a handful of synthesized or single bound files (never the host's /etc wholesale),
 * - a fresh /proc (own PID namespace), a minimal /dev (read-only, with a size-capped /dev/shm),
 * - a size-capped private /tmp, and the execution's workspace dir bound read-write at /workspace.
 * Every namespace is unshared (network included), the guest runs as a non-root uid in its own user
 * namespace and cannot create further user namespaces, in a new session, killed with its parent.
 *
 * `--as-pid-1`: the interpreter itself is PID 1 of its namespace, with no bwrap init in between.
 * With an init, bwrap's outer process exits as soon as the init reports the guest's status, leaving
 * the init as a zombie for the host's PID 1 to reap (counted against the guest uid's RLIMIT_NPROC
 * meanwhile, and never reaped under an init that does not reap). When PID 1 exits the kernel kills
 * everything else in the namespace, so nothing outlives the guest either way. As PID 1 the guest
 * ignores signals it has no handler for; the deadline's SIGKILL is unaffected.
 */
import { WORKSPACE } from "../types.js";
import { type BinaryMount, SANDBOX_BIN_DIR } from "./host-binaries.js";

/** The guest's uid/gid inside its user namespace: not 0, and not 65534 (which the kernel shows for unmapped owners). */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;
export const SANDBOX_HOSTNAME = "sandbox";

/** A host path that appears at the same path inside: a read-only bind, or a symlink as on the host. */
export type SystemMount =
  | { readonly kind: "ro-bind"; readonly path: string }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string };

export interface EtcFile {
  readonly hostPath: string;
  /** Path inside the sandbox, under /etc. */
  readonly sandboxPath: string;
}

export interface BwrapPlan {
  readonly workspaceHostDir: string;
  readonly systemMounts: readonly SystemMount[];
  readonly binaries: readonly BinaryMount[];
  readonly etcFiles: readonly EtcFile[];
  /** Size of the private /tmp and of /dev/shm, each. */
  readonly tmpSizeBytes: number;
  readonly env: Readonly<Record<string, string>>;
  /** What runs inside: an absolute path inside the sandbox, then its arguments. */
  readonly command: readonly string[];
}

/**
 * bwrap's options and the command, kept apart: the options (binds, env) go over `--args FD`, off the
 * host's process list; bwrap only accepts the command itself on its real command line.
 */
export interface BwrapArgs {
  readonly options: readonly string[];
  /** `--` then the command. */
  readonly command: readonly string[];
}

export function buildBwrapArgs(plan: BwrapPlan): BwrapArgs {
  if (plan.command.length === 0 || !plan.command[0]?.startsWith("/")) {
    throw new RangeError("command must start with an absolute path inside the sandbox");
  }
  const size = String(Math.max(1, Math.floor(plan.tmpSizeBytes)));
  const args: string[] = [
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    "--as-pid-1",
    "--uid",
    String(SANDBOX_UID),
    "--gid",
    String(SANDBOX_GID),
    "--hostname",
    SANDBOX_HOSTNAME,
    "--clearenv",
  ];
  for (const [name, value] of Object.entries(plan.env)) args.push("--setenv", name, value);

  for (const mount of plan.systemMounts) {
    if (mount.kind === "ro-bind") args.push("--ro-bind", mount.path, mount.path);
    else args.push("--symlink", mount.target, mount.path);
  }
  const prefixes = new Set<string>();
  for (const binary of plan.binaries) {
    if (binary.mount.kind === "prefix" && !prefixes.has(binary.mount.prefix)) {
      prefixes.add(binary.mount.prefix);
      args.push("--ro-bind", binary.mount.prefix, binary.mount.prefix);
    }
  }
  args.push("--dir", SANDBOX_BIN_DIR);
  for (const binary of plan.binaries) {
    const dest = `${SANDBOX_BIN_DIR}/${binary.name}`;
    if (binary.mount.kind === "file") args.push("--ro-bind", binary.hostPath, dest);
    else args.push("--symlink", binary.hostPath, dest);
  }
  if (!plan.systemMounts.some((m) => m.path === "/bin")) args.push("--symlink", "usr/bin", "/bin");

  args.push("--dir", "/etc");
  for (const file of plan.etcFiles) {
    if (!file.sandboxPath.startsWith("/etc/")) throw new RangeError(`etc file outside /etc: ${file.sandboxPath}`);
    args.push("--ro-bind", file.hostPath, file.sandboxPath);
  }

  args.push(
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    size,
    "--tmpfs",
    "/dev/shm",
    "--remount-ro",
    "/dev",
    "--size",
    size,
    "--perms",
    "1777",
    "--tmpfs",
    "/tmp",
    "--bind",
    plan.workspaceHostDir,
    WORKSPACE,
    "--remount-ro",
    "/",
    "--chdir",
    WORKSPACE,
  );
  return { options: args, command: ["--", ...plan.command] };
}

/** bwrap reads NUL-separated arguments from a descriptor with `--args FD`; this encodes them. */
export function encodeArgs(args: readonly string[]): Buffer {
  for (const arg of args) if (arg.includes("\0")) throw new RangeError("argument contains a NUL byte");
  return Buffer.from(args.map((a) => `${a}\0`).join(""), "utf8");
}

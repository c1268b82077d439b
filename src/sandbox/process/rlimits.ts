/**
 * Resource limits for a guest process, applied with util-linux `prlimit` which sets them on itself
 * and then execs the wrapped command (bwrap, then the interpreter), so every process of the guest
 * inherits them.
 *
 * - RLIMIT_AS: address space (the runtime may ask for headroom; see runtime-tuning.ts).
 * - RLIMIT_NPROC: tasks (processes and threads) of the guest's host uid. The kernel ignores it for
 *   host root, so the guest must run as a non-root host uid (see host-identity.ts).
 * - RLIMIT_FSIZE: largest file the guest can write (the workspace total is checked separately).
 * - RLIMIT_CORE: 0, no core dumps. RLIMIT_NOFILE: bounded descriptors.
 */
export interface ResourceLimits {
  readonly addressSpaceBytes: number;
  /** null leaves RLIMIT_NPROC alone (it would be meaningless, e.g. when running as root). */
  readonly maxProcesses: number | null;
  readonly fileSizeBytes: number;
  readonly openFiles: number;
}

export const DEFAULT_MAX_PROCESSES = 64;
export const DEFAULT_OPEN_FILES = 1024;

/** argv for `prlimit` (after the binary) that runs `command` under the limits. */
export function prlimitArgs(limits: ResourceLimits, command: readonly string[]): string[] {
  const as = positiveInt(limits.addressSpaceBytes, "addressSpaceBytes");
  const fsize = positiveInt(limits.fileSizeBytes, "fileSizeBytes");
  const nofile = positiveInt(limits.openFiles, "openFiles");
  const args = [`--as=${as}`, `--fsize=${fsize}`, "--core=0", `--nofile=${nofile}`];
  if (limits.maxProcesses !== null) args.push(`--nproc=${positiveInt(limits.maxProcesses, "maxProcesses")}`);
  return [...args, "--", ...command];
}

function positiveInt(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

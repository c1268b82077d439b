/**
 * Which host uid a guest runs as.
 *
 * RLIMIT_NPROC is never enforced for host root (even as a mapped non-root uid inside a user
 * namespace) and is counted per host uid across every process of that uid. So when the server runs
 * as root, each concurrent execution gets its own unused host uid/gid from a pool: the fork limit
 * then holds and one guest's fork bomb cannot starve another's budget. When the server is not root
 * it cannot switch uid; guests run as the server's uid and share one RLIMIT_NPROC budget with it.
 */
import { ServiceError } from "../../errors.js";
import type { Owner } from "./workspace-dir.js";

export const DEFAULT_HOST_UID_POOL_SIZE = 256;
/**
 * Each server process takes its own range of host uids (by pid), so two processes on one host (two
 * servers, or parallel test files) never share a uid's process budget: one's fork bomb cannot make
 * the other's bwrap fail with EAGAIN.
 */
export const DEFAULT_HOST_UID_BASE = 1_000_000 + (process.pid % 4096) * DEFAULT_HOST_UID_POOL_SIZE;

export class HostIdentityPool {
  private readonly inUse = new Set<number>();

  constructor(
    private readonly base: number = DEFAULT_HOST_UID_BASE,
    private readonly size: number = DEFAULT_HOST_UID_POOL_SIZE,
  ) {
    if (!Number.isSafeInteger(base) || base <= 0 || base + size > 0xffff_fffe) throw new RangeError("bad uid range");
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError("bad uid pool size");
  }

  /** A free identity; throws OVERLOADED when all are taken (more concurrent runs than the pool). */
  acquire(): Owner {
    for (let i = 0; i < this.size; i++) {
      const uid = this.base + i;
      if (!this.inUse.has(uid)) {
        this.inUse.add(uid);
        return { uid, gid: uid };
      }
    }
    throw new ServiceError("OVERLOADED", "No free sandbox identity; too many concurrent executions.");
  }

  release(owner: Owner): void {
    this.inUse.delete(owner.uid);
  }

  get active(): number {
    return this.inUse.size;
  }
}

/** Whether this process can switch guests to other host uids. */
export function canSwitchUser(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/**
 * Execution limits. Every limit carries its unit in its name. Defaults live in DEFAULT_LIMITS;
 * the server's maxima (MAX_LIMITS, overridable by configuration) are ceilings a request cannot exceed.
 * All limits are enforced by the host, never trusted to the guest.
 */
export interface Limits {
  /** Wall-clock deadline for the guest. */
  readonly timeoutMs: number;
  /** Grace after the deadline before the host kills the worker or process group. */
  readonly killGraceMs: number;
  /** Cap on the guest's memory (WASM linear memory, QuickJS heap, or RLIMIT_AS for processes). */
  readonly memoryLimitBytes: number;
  /** Cap on each of stdout and stderr, enforced while the output is produced. */
  readonly maxOutputBytes: number;
  /** Quota on bytes written into the guest's writable filesystem. */
  readonly maxFilesystemBytes: number;
}

/** The limits a request may set; the rest come from the server. */
export type RequestLimits = Partial<Pick<Limits, "timeoutMs" | "memoryLimitBytes" | "maxOutputBytes">>;

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Limits = Object.freeze({
  timeoutMs: 5_000,
  killGraceMs: 250,
  memoryLimitBytes: 256 * MiB,
  maxOutputBytes: 1 * MiB,
  maxFilesystemBytes: 64 * MiB,
});

export const MAX_LIMITS: Limits = Object.freeze({
  timeoutMs: 60_000,
  killGraceMs: 5_000,
  memoryLimitBytes: 1024 * MiB,
  maxOutputBytes: 16 * MiB,
  maxFilesystemBytes: 512 * MiB,
});

export const WASM_PAGE_BYTES = 64 * 1024;

/** Combine the server defaults with what a request asked for. The caller has already checked maxima. */
export function resolveLimits(defaults: Limits, requested: RequestLimits | undefined): Limits {
  return Object.freeze({ ...defaults, ...stripUndefined(requested ?? {}) });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

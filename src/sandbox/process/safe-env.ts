/**
 * SafeEnv: the only environment a guest process ever sees. It is built from scratch, never from the
 * server's own `process.env`: PATH, HOME, LANG, then what the request declared, then what the runtime
 * needs to enforce limits (e.g. NODE_OPTIONS for node's heap cap), which the request cannot override.
 */

/** Names the request may never set: dynamic-loader and glibc knobs that change how binaries load. */
const FORBIDDEN_NAME = /^(LD_|GCONV_PATH$|GLIBC_TUNABLES$|MALLOC_|HOSTALIASES$|LOCALDOMAIN$|RES_OPTIONS$)/;
/** POSIX-portable names only; anything else is dropped. */
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ENTRIES = 256;
const MAX_VALUE_LENGTH = 32 * 1024;

export interface SafeEnvInput {
  /** PATH inside the sandbox. */
  readonly path: string;
  /** HOME inside the sandbox (the workspace). */
  readonly home: string;
  /** What the request declared. */
  readonly requested: Readonly<Record<string, string>>;
  /** Set by the sandbox after the request's entries; the request cannot override these. */
  readonly enforced?: Readonly<Record<string, string>>;
}

export interface SafeEnv {
  readonly env: Readonly<Record<string, string>>;
  /** Request entries that were dropped, with why (for the audit log; never echoed to the guest). */
  readonly dropped: readonly { readonly name: string; readonly reason: string }[];
}

export function buildSafeEnv(input: SafeEnvInput): SafeEnv {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  env.PATH = input.path;
  env.HOME = input.home;
  env.LANG = "C.UTF-8";
  const dropped: { name: string; reason: string }[] = [];
  let count = 0;
  for (const [name, value] of Object.entries(input.requested)) {
    const reason = rejectReason(name, value);
    if (reason !== null) {
      dropped.push({ name, reason });
      continue;
    }
    if (++count > MAX_ENTRIES) {
      dropped.push({ name, reason: "too many variables" });
      continue;
    }
    env[name] = value;
  }
  for (const [name, value] of Object.entries(input.enforced ?? {})) env[name] = value;
  return { env: Object.freeze({ ...env }), dropped };
}

function rejectReason(name: string, value: string): string | null {
  if (!VALID_NAME.test(name)) return "invalid name";
  if (FORBIDDEN_NAME.test(name)) return "forbidden name";
  if (typeof value !== "string" || value.includes("\0")) return "invalid value";
  if (value.length > MAX_VALUE_LENGTH) return "value too long";
  return null;
}

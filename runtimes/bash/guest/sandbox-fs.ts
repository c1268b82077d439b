/**
 * The guest filesystem: just-bash's InMemoryFs with a byte quota that can be set per run, wrapped
 * so that bash's network pseudo-devices (/dev/tcp/HOST/PORT, /dev/udp/HOST/PORT) fail like an
 * unreachable network instead of silently becoming regular files, and writes to /dev/null are
 * discarded (it stays empty). /dev/urandom and /dev/random are lazy files of random bytes from the
 * per-run reseeded generator.
 */
import { type IFileSystem, InMemoryFs } from "just-bash/browser";

const NETWORK_DEVICE = /^\/dev\/(tcp|udp)(\/|$)/;
const DEV_NULL = "/dev/null";
const RANDOM_DEVICE_BYTES = 64 * 1024;
/** Methods whose first argument is a path to open, create or inspect (resolvePath is not one). */
const PATH_METHODS: ReadonlySet<string> = new Set([
  "readFile",
  "readFileBuffer",
  "readFileBytes",
  "writeFile",
  "appendFile",
  "exists",
  "stat",
  "lstat",
  "mkdir",
  "readdir",
  "readdirWithFileTypes",
  "rm",
  "cp",
  "mv",
  "chmod",
  "symlink",
  "link",
  "readlink",
  "realpath",
  "utimes",
]);

class NetworkUnreachableError extends Error {
  readonly code = "ENETUNREACH";
  constructor(path: string) {
    super(`${path}: Network is unreachable`);
  }
}

/** InMemoryFs's byte accounting (private in its types, plain properties at run time). */
interface QuotaFs {
  maxTotalBytes: number;
  retainedBytes: number;
}

export interface SandboxFs {
  /** What just-bash is given. */
  readonly fs: IFileSystem;
  /** The unwrapped store, for the setup of a run. */
  readonly store: InMemoryFs;
  /** Bytes the store holds now. */
  retainedBytes(): number;
  /** Cap the bytes the store may hold in total. */
  setQuota(bytes: number): void;
  /** True once a write was refused for lack of quota. */
  quotaExceeded(): boolean;
}

const isQuotaError = (error: unknown): boolean => error instanceof Error && /ENOSPC/.test(error.message);

function randomBytes(): Uint8Array {
  const out = new Uint8Array(RANDOM_DEVICE_BYTES);
  for (let i = 0; i < out.length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

export function createSandboxFs(): SandboxFs {
  const store = new InMemoryFs({});
  const quota = store as unknown as QuotaFs;
  if (typeof quota.maxTotalBytes !== "number" || typeof quota.retainedBytes !== "number") {
    throw new Error("bash guest: InMemoryFs has no byte quota; refusing to run without one");
  }
  let exceeded = false;
  const watch = (value: unknown): unknown => {
    if (value instanceof Promise) {
      return value.catch((error: unknown) => {
        if (isQuotaError(error)) exceeded = true;
        throw error;
      });
    }
    return value;
  };
  store.writeFileLazy("/dev/urandom", randomBytes);
  store.writeFileLazy("/dev/random", randomBytes);
  const fs = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      const checked = typeof prop === "string" && PATH_METHODS.has(prop);
      return (...args: unknown[]) => {
        const path = args[0];
        if (checked && typeof path === "string" && NETWORK_DEVICE.test(path)) {
          return Promise.reject(new NetworkUnreachableError(path));
        }
        if (checked && path === DEV_NULL && (prop === "writeFile" || prop === "appendFile")) return Promise.resolve();
        try {
          return watch(method.apply(target, args));
        } catch (error) {
          if (isQuotaError(error)) exceeded = true;
          throw error;
        }
      };
    },
  }) as IFileSystem;
  return {
    fs,
    store,
    retainedBytes: () => quota.retainedBytes,
    setQuota(bytes: number) {
      quota.maxTotalBytes = bytes;
    },
    quotaExceeded: () => exceeded,
  };
}

/**
 * The host side of one CPython execution: a guest filesystem (the workspace tree, the read-only
 * stdlib zip and `sandbox` package, and the HTTP host-call device bound to this execution's
 * `context.http`) and the WASI host over it. Used both for the snapshot interpreter booted in load()
 * and for every execution, so the host-side layout (fd numbers, preopens) is identical at capture
 * and at restore. The instance itself comes from wasm/host/snapshot-module.ts. What needs no request
 * (the unstarted WASI host, the stdlib preopen) is built with each spare (pythonHostAhead), off the
 * execution's path; the rest when the execution starts (startPythonHost).
 */
import { File, type Inode } from "@bjorn3/browser_wasi_shim";
import type { WorkspaceFile } from "../../src/sandbox/types.js";
import type { RunContext } from "../../src/sandbox/wasm/runtime.js";
import { httpDevicePreopen } from "../../wasm/host/http-device.js";
import { VfsDirectory, VfsPreopen } from "../../wasm/host/wasi-fs.js";
import { type UnstartedWasiHost, unstartedWasiHost, type WasiHost } from "../../wasm/host/wasi-host.js";
import { createGuestFilesystem, type GuestFilesystem } from "../../wasm/host/wasi-workspace.js";
import { STDLIB_ZIP_GUEST_PATH } from "./artifacts.js";
import { type LibraryFile, siteTree } from "./guest-library.js";

export interface HostOptions {
  readonly files: readonly WorkspaceFile[];
  readonly stdin: string;
  readonly maxFilesystemBytes: number;
  readonly context: Pick<RunContext, "stdout" | "stderr" | "deadline" | "cancelled" | "http">;
  /** The `sandbox` package, served under site-packages. */
  readonly library: readonly LibraryFile[];
}

export interface PythonHost {
  readonly host: WasiHost;
  readonly fs: GuestFilesystem;
}

const STDLIB_DIR = STDLIB_ZIP_GUEST_PATH.slice(0, STDLIB_ZIP_GUEST_PATH.lastIndexOf("/"));
const STDLIB_NAME = STDLIB_ZIP_GUEST_PATH.slice(STDLIB_DIR.length + 1);

/**
 * /usr/local/lib as a read-only preopen holding only the stdlib zip and site-packages/sandbox. Their
 * bytes are shared by every instance of a worker: the files are read-only (the shim refuses write
 * opens and writes with EPERM/EBADF) and sit in read-only directories (no unlink, rename or new
 * entries); the File objects themselves are per execution.
 */
function stdlibPreopen(stdlib: Uint8Array, library: readonly LibraryFile[]): VfsPreopen {
  const zip = new File(new ArrayBuffer(0), { readonly: true });
  zip.data = stdlib;
  return new VfsPreopen(
    STDLIB_DIR,
    new VfsDirectory(new Map<string, Inode>([[STDLIB_NAME, zip], siteTree(library)]), null),
  );
}

/** One execution's host-side objects that need no request, built ahead with its spare instance. */
export interface PythonHostAhead {
  readonly host: UnstartedWasiHost;
  readonly stdlib: VfsPreopen;
}

export function pythonHostAhead(stdlib: Uint8Array, library: readonly LibraryFile[]): PythonHostAhead {
  return { host: unstartedWasiHost(), stdlib: stdlibPreopen(stdlib, library) };
}

/** Starts the host `ahead` built for this execution (used once). */
export function startPythonHost(ahead: PythonHostAhead, options: Omit<HostOptions, "library">): PythonHost {
  const fs = createGuestFilesystem({ files: options.files, maxFilesystemBytes: options.maxFilesystemBytes });
  // WASI args and environment stay empty: the interpreter gets argv and env from the run request,
  // applied after the snapshot point.
  const host = ahead.host.start({
    env: {},
    stdin: options.stdin,
    context: options.context,
    preopens: [...fs.preopens, ahead.stdlib, httpDevicePreopen(options.context.http)],
  });
  return { host, fs };
}

/** Both at once: the snapshot interpreter's host in load() (boot.ts). */
export function createPythonHost(stdlib: Uint8Array, options: HostOptions): PythonHost {
  return startPythonHost(pythonHostAhead(stdlib, options.library), options);
}

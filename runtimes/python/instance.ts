/**
 * One CPython instance: a guest filesystem (the workspace tree plus the read-only stdlib zip), the
 * WASI host, a fresh capped memory and a new WebAssembly.Instance of the reactor. Used both to boot
 * the snapshot interpreter in load() and for every execution, so the host-side layout (fd numbers,
 * preopens) is identical at capture and at restore.
 */
import { File, type Inode } from "@bjorn3/browser_wasi_shim";
import type { WorkspaceFile } from "../../src/sandbox/types.js";
import type { RunContext } from "../../src/sandbox/wasm/runtime.js";
import type { MemoryImportName } from "../../wasm/host/memory-import.js";
import { VfsDirectory, VfsPreopen } from "../../wasm/host/wasi-fs.js";
import { createWasiHost } from "../../wasm/host/wasi-host.js";
import { createGuestFilesystem, type GuestFilesystem } from "../../wasm/host/wasi-workspace.js";
import { STDLIB_ZIP_GUEST_PATH } from "./artifacts.js";
import { PythonGuest } from "./guest.js";

export interface PythonModule {
  readonly module: WebAssembly.Module;
  readonly memoryImport: MemoryImportName;
  readonly stdlib: Uint8Array;
}

export interface InstanceOptions {
  readonly files: readonly WorkspaceFile[];
  readonly stdin: string;
  readonly maxFilesystemBytes: number;
  readonly memory: WebAssembly.Memory;
  readonly context: Pick<RunContext, "stdout" | "stderr" | "deadline" | "cancelled">;
}

export interface PythonInstance {
  readonly guest: PythonGuest;
  readonly instance: WebAssembly.Instance;
  readonly fs: GuestFilesystem;
}

const STDLIB_DIR = STDLIB_ZIP_GUEST_PATH.slice(0, STDLIB_ZIP_GUEST_PATH.lastIndexOf("/"));
const STDLIB_NAME = STDLIB_ZIP_GUEST_PATH.slice(STDLIB_DIR.length + 1);

/**
 * /usr/local/lib as a read-only preopen holding only the stdlib zip. The zip's bytes are shared by
 * every instance of a worker: the file is read-only (the shim refuses write opens and writes with
 * EPERM/EBADF) and sits in a read-only directory (no unlink, rename or new entries).
 */
function stdlibPreopen(stdlib: Uint8Array): VfsPreopen {
  const zip = new File(new ArrayBuffer(0), { readonly: true });
  zip.data = stdlib;
  return new VfsPreopen(STDLIB_DIR, new VfsDirectory(new Map<string, Inode>([[STDLIB_NAME, zip]]), null));
}

export async function createPythonInstance(python: PythonModule, options: InstanceOptions): Promise<PythonInstance> {
  const fs = createGuestFilesystem({ files: options.files, maxFilesystemBytes: options.maxFilesystemBytes });
  // WASI args and environment stay empty: the interpreter gets argv and env from the run request,
  // applied after the snapshot point.
  const host = createWasiHost({
    args: [],
    env: {},
    stdin: options.stdin,
    context: options.context,
    preopens: [...fs.preopens, stdlibPreopen(python.stdlib)],
  });
  const instance = await WebAssembly.instantiate(python.module, {
    wasi_snapshot_preview1: host.imports,
    [python.memoryImport.module]: { [python.memoryImport.name]: options.memory },
  });
  host.bind(instance);
  return { guest: new PythonGuest(instance, options.memory), instance, fs };
}

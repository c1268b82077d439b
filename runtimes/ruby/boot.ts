/**
 * Ruby's one-time boot, run in the short-lived Liftoff-only child process that wasm.ts's load()
 * starts (src/sandbox/wasm/boot-process.ts calls bootRubySnapshot by name). This module is the
 * child's entry: it imports only what the boot needs, not the service's runtime code.
 *
 * 1. Rewrite ruby.wasm (the package's build without the embedded standard library, which the host
 *    serves instead: stdlib.ts) for snapshots (wasm/host/snapshot-module.ts prepareForSnapshots):
 *    the 10,000 active data segments (4.6 MiB) taken out, memory 0 imported, mutable globals
 *    exported. The rewritten bytes (12 MB instead of 17) go back to the service, which compiles
 *    them for the executions; nothing is rewritten or compiled twice on either side.
 * 2. Boot one interpreter with no guest code, with the standard library's preopen where every
 *    execution has it (rubyPreopens): the data segments applied by hand, libc/wasi-vfs
 *    init, ruby_init without RubyGems and the library setup (libraries.ts: bundled gems on the
 *    load path, Gem autoloaded), the per-execution bootstrap compiled (bootstrap.ts),
 *    Sandbox::HTTP defined (sandbox-http.ts, loads `json`), the bootstrap run once on an empty
 *    script (bootstrap.ts BOOTSTRAP_WARM_UP), a GC; then capture its memory and globals
 *    (wasm/host/memory-snapshot.ts).
 *
 * CPU of the child, medians of 11 runs on the noisy 2-core development VM (before these changes in
 * brackets): node start ~155 ms, imports ~75 (115), read ~55, rewrite ~70 (230: three passes over
 * 30 MB), compile ~20 (165: src/sandbox/wasm/boot-process.ts V8_FLAGS), segments ~20, ruby_init ~650-710 (1100), bootstrap +
 * Sandbox::HTTP + GC ~45 (65), capture ~50, reply ~50 (65); in all ~1.2-1.3 s (2.1 s). Since then
 * RubyGems is no longer loaded in ruby_init (libraries.ts): the boot function's own CPU ~710 -> ~570 ms.
 * Those numbers are from ruby+stdlib.wasm (30 MB, its 18 MiB of segments mostly the embedded
 * library); with ruby.wasm the snapshot stores ~10 MiB instead of 23 MiB.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Fd } from "@bjorn3/browser_wasi_shim";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { SCRIPT_FILES } from "../../src/sandbox/types.js";
import type { OutputSink } from "../../src/sandbox/wasm/runtime.js";
import { applySegments } from "../../wasm/host/detach-data.js";
import { httpDevicePreopen } from "../../wasm/host/http-device.js";
import type { MemoryImportName } from "../../wasm/host/memory-import.js";
import { captureSnapshot, type MemorySnapshot } from "../../wasm/host/memory-snapshot.js";
import { instantiateFresh, prepareForSnapshots, type SnapshotReadyModule } from "../../wasm/host/snapshot-module.js";
import type { VfsDirectory } from "../../wasm/host/wasi-fs.js";
import { createWasiHost } from "../../wasm/host/wasi-host.js";
import { createGuestFilesystem } from "../../wasm/host/wasi-workspace.js";
import { BOOTSTRAP_DEFINITION, BOOTSTRAP_WARM_UP } from "./bootstrap.js";
import { LIBRARY_SETUP } from "./libraries.js";
import { fixnumValue, RubyGuest, sealedRubyImports } from "./ruby-abi.js";
import { SANDBOX_HTTP_DEFINITION } from "./sandbox-http.js";
import { installedRubyPackageVersion, RUBY_PACKAGE, readRubyStdlib, rubyPreopens, stdlibTree } from "./stdlib.js";

const WASM_FILE = "dist/ruby.wasm";
/**
 * ruby_options arguments of the snapshot interpreter; `-e_=0` keeps it from reading a script.
 * `--disable-gems`: RubyGems is autoloaded on first use instead (libraries.ts LIBRARY_SETUP).
 */
export const RUBY_INIT_ARGS = ["ruby", "-EUTF-8", "--disable-gems", "-e_=0"] as const;
/** Memory cap while booting the snapshot interpreter. */
const BOOT_MEMORY_BYTES = 512 * 1024 * 1024;

/** Path of ruby.wasm (without the embedded library) inside the installed package (resolved, never hard-coded). */
export function rubyWasmPath(): string {
  return createRequire(import.meta.url).resolve(`${RUBY_PACKAGE}/${WASM_FILE}`);
}

/** The installed package's version, which the standard library archive must have been built from. */
export function rubyPackageVersion(): Promise<string> {
  return installedRubyPackageVersion(join(dirname(rubyWasmPath()), "..", "package.json"));
}

/** What the boot process sends back: the rewritten module's bytes and the snapshot taken with them. */
export interface RubyBoot {
  readonly snapshot: MemorySnapshot;
  readonly rubyVersion: string;
  /** The module rewritten for snapshots (prepareForSnapshots), for the service to compile. */
  readonly moduleBytes: Uint8Array<ArrayBuffer>;
  readonly memoryImport: MemoryImportName;
  readonly minimumPages: number;
}

/** A started interpreter: ruby_init done with RUBY_INIT_ARGS, no guest code run. */
export interface StartedRuby {
  readonly guest: RubyGuest;
  readonly instance: WebAssembly.Instance;
  readonly memory: WebAssembly.Memory;
  readonly rubyVersion: string;
}

/**
 * Instantiate a module rewritten for snapshots on a new memory, attach a WASI host with these
 * preopens and output sinks, apply the data segments and run ruby_init (also used by
 * stdlib-build.ts on ruby+stdlib.wasm).
 */
export function startRuby(
  ready: SnapshotReadyModule,
  preopens: readonly Fd[],
  output: { readonly stdout: OutputSink; readonly stderr: OutputSink },
): StartedRuby {
  const memory = new WebAssembly.Memory({
    initial: ready.minimumPages,
    maximum: BOOT_MEMORY_BYTES / WASM_PAGE_BYTES,
  });
  const fresh = instantiateFresh(
    { ...ready, otherImports: sealedRubyImports(ready.module, ready.memoryImport) },
    memory,
  );
  fresh.attach(
    createWasiHost({
      args: [],
      env: {},
      stdin: "",
      preopens: [...preopens],
      context: { ...output, deadline: Number.POSITIVE_INFINITY, cancelled: () => false },
    }),
  );
  applySegments(memory, ready.segments);
  const guest = new RubyGuest(fresh.instance);
  guest.initialize();
  guest.rubyInit(RUBY_INIT_ARGS);
  const version = guest.evalProtect("RUBY_VERSION");
  if (version.state !== 0) throw new Error("ruby.wasm failed to report RUBY_VERSION");
  return { guest, instance: fresh.instance, memory, rubyVersion: guest.readString(version.value) };
}

/** Boot one interpreter with no guest code, compile the bootstrap into it, and capture it. */
function bootSnapshot(
  ready: SnapshotReadyModule,
  freshMemoryIsZero: boolean,
  stdlib: VfsDirectory,
): { snapshot: MemorySnapshot; rubyVersion: string } {
  const discard = { write: () => undefined, length: 0 };
  // The empty script the bootstrap's warm-up run compiles (BOOTSTRAP_WARM_UP).
  const script = { path: SCRIPT_FILES.ruby, content: new Uint8Array(0) };
  const fs = createGuestFilesystem({ files: [script], maxFilesystemBytes: 0 });
  const device = httpDevicePreopen(() => {
    throw new Error("the snapshot interpreter made an HTTP call while booting");
  });
  const { guest, instance, memory, rubyVersion } = startRuby(ready, rubyPreopens(fs.preopens, stdlib, device), {
    stdout: discard,
    stderr: discard,
  });
  if (guest.evalProtect(LIBRARY_SETUP).state !== 0) throw new Error("the ruby library setup failed");
  if (guest.evalProtect(BOOTSTRAP_DEFINITION).state !== 0) throw new Error("the ruby bootstrap failed to compile");
  if (guest.evalProtect(SANDBOX_HTTP_DEFINITION).state !== 0) throw new Error("Sandbox::HTTP failed to load");
  const warmUp = guest.evalProtect(BOOTSTRAP_WARM_UP);
  if (warmUp.state !== 0 || fixnumValue(warmUp.value) !== 0) throw new Error("the ruby bootstrap's warm-up run failed");
  if (guest.evalProtect("GC.start; nil").state !== 0) throw new Error("ruby.wasm failed to collect garbage");
  // With the data detached, the new memory was all zero before the segments were applied, so
  // restore copies only the stored pages into an untouched memory (clearFirst false).
  const snapshot = captureSnapshot(memory, instance, ready.globalNames, freshMemoryIsZero);
  return { snapshot, rubyVersion };
}

/** The boot, from the package's bytes (in the child process; see the top of this file). */
export async function bootRubySnapshot(): Promise<RubyBoot> {
  const [wasm, stdlib] = await Promise.all([
    readFile(rubyWasmPath()),
    rubyPackageVersion().then((version) => readRubyStdlib(version)),
  ]);
  const prepared = prepareForSnapshots(new Uint8Array(wasm));
  const { bytes, freshMemoryIsZero, ...layout } = prepared;
  const ready: SnapshotReadyModule = { ...layout, module: await WebAssembly.compile(bytes) };
  const { snapshot, rubyVersion } = bootSnapshot(ready, freshMemoryIsZero, stdlibTree(stdlib));
  if (rubyVersion !== stdlib.index.rubyVersion) {
    throw new Error(`ruby.wasm is Ruby ${rubyVersion} but its standard library archive is ${stdlib.index.rubyVersion}`);
  }
  return {
    snapshot,
    rubyVersion,
    moduleBytes: bytes,
    memoryImport: ready.memoryImport,
    minimumPages: ready.minimumPages,
  };
}

/**
 * Ruby 3.4 on WebAssembly (ruby.wasm, @ruby/3.4-wasm-wasi `ruby+stdlib.wasm`).
 *
 * load() (loader thread, once):
 *   1. rewrite the module for snapshots (wasm/host/snapshot-module.ts): memory 0 imported (a
 *      per-execution cap), mutable globals exported, and the 10,000 active data segments (18 MiB,
 *      mostly the embedded stdlib) made passive, so a new memory starts zero and restoring copies
 *      only the snapshot's non-zero pages (measured: restore 45 -> 19 ms, instantiate 22 -> 6 ms);
 *   2. boot one interpreter (libc/wasi-vfs init + ruby_init with RubyGems) with no guest code,
 *      compile the per-execution bootstrap into it (bootstrap.ts), define Sandbox::HTTP
 *      (sandbox-http.ts, loads `json`), and snapshot its memory and globals
 *      (wasm/host/memory-snapshot.ts). The boot runs in a child process with Liftoff only
 *      (src/sandbox/wasm/boot-process.ts: ~1.3 s instead of 2.5-5 s with TurboFan tier-up competing
 *      for the 2 cores); it sends back the rewritten bytes with the snapshot, and this thread
 *      compiles them (with the default tiering) for the executions.
 * createRunner() / after every run (worker): a SparePool prepares the next instance off the reply
 * path: a new Memory capped at the memory limit, a new Instance, the snapshot copied in.
 * run(): takes that never-used instance, attaches the execution's WASI host and evaluates a one-line
 * call of the bootstrap, which runs /workspace/main.rb. Nothing of the JS host is reachable
 * (ruby-abi.ts seals the JS bridge).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import type { RuntimeInfo } from "../../src/sandbox/types.js";
import { runBootProcess } from "../../src/sandbox/wasm/boot-process.js";
import type { Runner, RuntimeAssets, WasmRuntime } from "../../src/sandbox/wasm/runtime.js";
import { applySegments, detachActiveData } from "../../wasm/host/detach-data.js";
import { exportMutableGlobals } from "../../wasm/host/global-export.js";
import { httpDevicePreopen } from "../../wasm/host/http-device.js";
import { importMemory, type MemoryImportName } from "../../wasm/host/memory-import.js";
import { captureSnapshot, isMemoryZero, type MemorySnapshot } from "../../wasm/host/memory-snapshot.js";
import { instantiateFresh, type SnapshotReadyModule } from "../../wasm/host/snapshot-module.js";
import { createWasiHost } from "../../wasm/host/wasi-host.js";
import { createGuestFilesystem } from "../../wasm/host/wasi-workspace.js";
import { BOOTSTRAP_DEFINITION } from "./bootstrap.js";
import { RubyGuest, sealedRubyImports } from "./ruby-abi.js";
import { SANDBOX_HTTP_DEFINITION } from "./sandbox-http.js";
import { createRubyRunner } from "./wasm-runner.js";

const PACKAGE = "@ruby/3.4-wasm-wasi";
const WASM_FILE = "dist/ruby+stdlib.wasm";
/** ruby_options arguments of the snapshot interpreter; `-e_=0` keeps it from reading a script. */
export const RUBY_INIT_ARGS = ["ruby", "-EUTF-8", "-e_=0"] as const;
/** Memory cap while booting the snapshot interpreter. */
const BOOT_MEMORY_BYTES = 512 * 1024 * 1024;

export interface RubyAssets {
  readonly module: WebAssembly.Module;
  readonly memoryImport: MemoryImportName;
  readonly minimumPages: number;
  readonly snapshot: MemorySnapshot;
  readonly rubyVersion: string;
  readonly packageVersion: string;
}

export function isRubyAssets(value: RuntimeAssets): value is RuntimeAssets & RubyAssets {
  return (
    value.module instanceof WebAssembly.Module &&
    typeof value.minimumPages === "number" &&
    typeof value.rubyVersion === "string" &&
    typeof value.snapshot === "object" &&
    value.snapshot !== null &&
    typeof value.memoryImport === "object"
  );
}

/** Path of ruby+stdlib.wasm inside the installed package (resolved, never hard-coded). */
export function rubyWasmPath(): string {
  return createRequire(import.meta.url).resolve(`${PACKAGE}/${WASM_FILE}`);
}

async function packageVersion(wasmPath: string): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL("../package.json", `file://${wasmPath}`), "utf8")) as {
    version?: unknown;
  };
  return typeof manifest.version === "string" ? manifest.version : "unknown";
}

/** What the boot process sends back: the rewritten module's bytes and the snapshot taken with them. */
export interface RubyBoot {
  readonly snapshot: MemorySnapshot;
  readonly rubyVersion: string;
  /** The module rewritten for snapshots (what rewriteForSnapshots compiles). */
  readonly moduleBytes: Uint8Array<ArrayBuffer>;
  readonly memoryImport: MemoryImportName;
  readonly minimumPages: number;
}

/** Boot one interpreter with no guest code, compile the bootstrap into it, and capture it. */
async function bootSnapshot(ready: SnapshotReadyModule): Promise<{ snapshot: MemorySnapshot; rubyVersion: string }> {
  const discard = { write: () => undefined, length: 0 };
  const fs = createGuestFilesystem({ files: [], maxFilesystemBytes: 0 });
  const device = httpDevicePreopen(() => {
    throw new Error("the snapshot interpreter made an HTTP call while booting");
  });
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
      preopens: [...fs.preopens, device],
      context: { stdout: discard, stderr: discard, deadline: Number.POSITIVE_INFINITY, cancelled: () => false },
    }),
  );
  // True with detached data: restore then copies only the stored pages into an untouched memory.
  const freshMemoryWasZero = isMemoryZero(memory);
  applySegments(memory, ready.segments);
  const guest = new RubyGuest(fresh.instance);
  guest.initialize();
  guest.rubyInit(RUBY_INIT_ARGS);
  const version = guest.evalProtect("RUBY_VERSION");
  if (version.state !== 0) throw new Error("ruby.wasm failed to report RUBY_VERSION");
  const rubyVersion = guest.readString(version.value);
  if (guest.evalProtect(BOOTSTRAP_DEFINITION).state !== 0) throw new Error("the ruby bootstrap failed to compile");
  if (guest.evalProtect(SANDBOX_HTTP_DEFINITION).state !== 0) throw new Error("Sandbox::HTTP failed to load");
  if (guest.evalProtect("GC.start; nil").state !== 0) throw new Error("ruby.wasm failed to collect garbage");
  const snapshot = captureSnapshot(memory, fresh.instance, ready.globalNames, freshMemoryWasZero);
  return { snapshot, rubyVersion };
}

/**
 * The boot, from the package's bytes: runs in the child process started by load() (boot-process.ts
 * calls it by name).
 */
export async function bootRubySnapshot(): Promise<RubyBoot> {
  // rewriteForSnapshots' steps, keeping the bytes: the service compiles them instead of rewriting
  // the 30 MB module a second time (~250 ms of CPU while the cores are busy starting up).
  const withMemory = importMemory(new Uint8Array(await readFile(rubyWasmPath())));
  const withGlobals = exportMutableGlobals(withMemory.bytes);
  const detached = detachActiveData(withGlobals.bytes);
  const ready: SnapshotReadyModule = {
    module: await WebAssembly.compile(detached.bytes),
    memoryImport: withMemory.memoryImport,
    minimumPages: withMemory.minimumPages,
    globalNames: withGlobals.exportNames,
    segments: detached.segments,
  };
  const { snapshot, rubyVersion } = await bootSnapshot(ready);
  return {
    snapshot,
    rubyVersion,
    moduleBytes: detached.bytes,
    memoryImport: ready.memoryImport,
    minimumPages: ready.minimumPages,
  };
}

class RubyWasmRuntime implements WasmRuntime {
  readonly language = "ruby" as const;
  private loaded: RuntimeInfo = { name: "ruby.wasm", version: "3.4" };

  /** The interpreter's RUBY_VERSION once load() ran (e.g. "3.4.1"); the major line before. */
  get info(): RuntimeInfo {
    return this.loaded;
  }

  async load(): Promise<RuntimeAssets> {
    const wasmPath = rubyWasmPath();
    const booted = await runBootProcess<RubyBoot>({ module: import.meta.url, export: "bootRubySnapshot" });
    const { snapshot, rubyVersion, minimumPages, memoryImport } = booted;
    const module = await WebAssembly.compile(booted.moduleBytes);
    const pkg = await packageVersion(wasmPath);
    this.loaded = { name: "ruby.wasm", version: rubyVersion };
    const assets: RubyAssets = {
      module,
      memoryImport,
      minimumPages,
      snapshot,
      rubyVersion,
      packageVersion: pkg,
    };
    return assets as unknown as RuntimeAssets;
  }

  async createRunner(assets: RuntimeAssets): Promise<Runner> {
    if (!isRubyAssets(assets)) throw new Error("the ruby runtime was given assets it did not load");
    this.loaded = { name: "ruby.wasm", version: assets.rubyVersion };
    return createRubyRunner(assets);
  }
}

export const rubyWasmRuntime: WasmRuntime = new RubyWasmRuntime();

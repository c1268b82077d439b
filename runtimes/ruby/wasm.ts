/**
 * Ruby 3.4 on WebAssembly (@ruby/3.4-wasm-wasi's `ruby.wasm`, with the standard library served
 * from the host: stdlib.ts).
 *
 * load() (loader thread, once): reads the standard library archive into shared memory (one copy for
 * every worker) and runs the boot (boot.ts) in a child process with Liftoff only
 * (src/sandbox/wasm/boot-process.ts: ~1.3 s instead of 2.5-5 s with TurboFan tier-up competing for
 * the 2 cores). The child rewrites the module for snapshots (memory 0 imported: a per-execution cap;
 * mutable globals exported; the active data segments taken out, so a new memory starts zero and
 * restoring copies only the snapshot's non-zero pages), boots one interpreter (RubyGems autoloaded
 * on first use, libraries.ts), the bootstrap and Sandbox::HTTP, and sends back the snapshot with the
 * rewritten bytes, which this thread compiles (with the default tiering) for the executions. The
 * module is rewritten once.
 * createRunner() (worker, once): builds the library's read-only tree over the shared archive.
 * After every run: a SparePool prepares the next instance off the reply path: a new Memory capped
 * at the memory limit, a new Instance, the snapshot copied in.
 * run(): takes that never-used instance, attaches the execution's WASI host and evaluates a one-line
 * call of the bootstrap, which runs /workspace/main.rb. Nothing of the JS host is reachable
 * (ruby-abi.ts seals the JS bridge).
 */
import type { RuntimeInfo } from "../../src/sandbox/types.js";
import { runBootProcess } from "../../src/sandbox/wasm/boot-process.js";
import type { Runner, RunnerOptions, RuntimeAssets, WasmRuntime } from "../../src/sandbox/wasm/runtime.js";
import type { MemoryImportName } from "../../wasm/host/memory-import.js";
import type { MemorySnapshot } from "../../wasm/host/memory-snapshot.js";
import { RUBY_BOOT } from "../boot-entries.js";
import { type RubyBoot, rubyPackageVersion } from "./boot.js";
import { readRubyStdlib } from "./stdlib.js";
import { createRubyRunner } from "./wasm-runner.js";

export interface RubyAssets {
  readonly module: WebAssembly.Module;
  readonly memoryImport: MemoryImportName;
  readonly minimumPages: number;
  readonly snapshot: MemorySnapshot;
  /** The standard library archive (stdlib.ts), in shared memory: one copy for every worker. */
  readonly stdlib: Uint8Array;
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
    value.stdlib instanceof Uint8Array &&
    typeof value.memoryImport === "object"
  );
}

/** The child's entry: boot.ts, or boot.js when this file runs compiled. */
class RubyWasmRuntime implements WasmRuntime {
  readonly language = "ruby" as const;
  private loaded: RuntimeInfo = { name: "ruby.wasm", version: "3.4" };

  /** The interpreter's RUBY_VERSION once load() ran (e.g. "3.4.1"); the major line before. */
  get info(): RuntimeInfo {
    return this.loaded;
  }

  async load(): Promise<RuntimeAssets> {
    const boot = runBootProcess<RubyBoot>(RUBY_BOOT);
    boot.catch(() => undefined);
    const pkg = await rubyPackageVersion();
    const stdlib = await readRubyStdlib(pkg, { shared: true });
    const booted = await boot;
    const { snapshot, rubyVersion, minimumPages, memoryImport } = booted;
    const module = await WebAssembly.compile(booted.moduleBytes);
    this.loaded = { name: "ruby.wasm", version: rubyVersion };
    const assets: RubyAssets = {
      module,
      memoryImport,
      minimumPages,
      snapshot,
      stdlib: stdlib.bytes,
      rubyVersion,
      packageVersion: pkg,
    };
    return assets as unknown as RuntimeAssets;
  }

  async createRunner(assets: RuntimeAssets, options?: RunnerOptions): Promise<Runner> {
    if (!isRubyAssets(assets)) throw new Error("the ruby runtime was given assets it did not load");
    this.loaded = { name: "ruby.wasm", version: assets.rubyVersion };
    return createRubyRunner(assets, options);
  }
}

export const rubyWasmRuntime: WasmRuntime = new RubyWasmRuntime();

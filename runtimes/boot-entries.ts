/**
 * The boots (src/sandbox/wasm/boot-process.ts) the runtimes' loads run in a child process, by module
 * and export. The loader starts these the moment a load is asked for, before it imports the
 * language's runtime (~100 ms of the critical path at start); the runtime's own runBootProcess call
 * with the same entry then takes that boot. Bash is not here: its boot takes the bundle's sources as
 * arguments, read by its load.
 */

import type { Language } from "../src/sandbox/types.js";
import type { BootEntry } from "../src/sandbox/wasm/boot-process.js";

const EXTENSION = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

function bootOf(path: string, exportName: string): BootEntry {
  return { module: new URL(`./${path}${EXTENSION}`, import.meta.url).href, export: exportName };
}

export const PYTHON_BOOT: BootEntry = bootOf("python/boot", "bootPythonSnapshot");
export const RUBY_BOOT: BootEntry = bootOf("ruby/boot", "bootRubySnapshot");
export const BASH_BOOT_MODULE: string = bootOf("bash/boot", "bootBashSeed").module;

/** Boots a load can start before its runtime is imported. */
export const PRESTARTED_BOOTS: Readonly<Partial<Record<Language, BootEntry>>> = {
  python: PYTHON_BOOT,
  ruby: RUBY_BOOT,
};

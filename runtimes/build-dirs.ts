/**
 * Where a runtime's build step writes its outputs (`npm run build`: runtimes/bash/bundle.ts,
 * runtimes/ruby/stdlib-build.ts), as seen from one of that runtime's modules: `build/` beside the
 * module when it runs from source (tsx), or the source tree's `runtimes/<language>/build` when it
 * runs compiled from `dist/runtimes/<language>` (the build writes into the source tree only).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Language } from "../src/sandbox/types.js";

/** The candidate build directories of `language`, in the order to look in; `moduleUrl` is `import.meta.url`. */
export function runtimeBuildDirs(moduleUrl: string, language: Language): readonly string[] {
  const here = dirname(fileURLToPath(moduleUrl));
  return [join(here, "build"), join(here, "..", "..", "..", "runtimes", language, "build")];
}

/**
 * The QuickJS build both QuickJS runtimes (JavaScript, Bash) instantiate: quickjs-emscripten's
 * release-sync variant, imported from its own package. The `quickjs-emscripten` package would
 * import all four of its variants' packages beside it (~5 ms more CPU to import, measured, in
 * every thread and boot child that loads a QuickJS runtime).
 */
import releaseSync from "@jitl/quickjs-wasmfile-release-sync";
import type { QuickJSSyncVariant } from "quickjs-emscripten-core";

/**
 * The package's types describe its CommonJS build, whose `module.exports` is the whole namespace;
 * imported as an ES module (how this code runs: Node's `import` condition) its default export is
 * the variant itself.
 */
export const RELEASE_SYNC = releaseSync as unknown as QuickJSSyncVariant;

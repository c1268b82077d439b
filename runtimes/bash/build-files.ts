/** Names of the files bundle.ts writes and wasm.ts reads (kept apart so wasm.ts never loads esbuild). */
export const BUNDLE_FILE = "just-bash.js";
export const SHIMS_FILE = "shims.js";

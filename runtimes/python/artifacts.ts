/**
 * Where the committed CPython-for-WASI artifacts live (built by runtimes/python/build.sh).
 */
import { fileURLToPath } from "node:url";

export const PYTHON_ARTIFACTS = Object.freeze({
  /** The reactor module (exports _initialize, pyreactor_init, pyreactor_run, pyreactor_alloc/free). */
  module: "python.wasm",
  /** The pyc-only standard library, mounted in the guest at STDLIB_ZIP_GUEST_PATH. */
  stdlib: "python311.zip",
});

/** Must match the module search path compiled into reactor.c. */
export const STDLIB_ZIP_GUEST_PATH = "/usr/local/lib/python311.zip";

const ARTIFACT_DIR = new URL("../../wasm/python/", import.meta.url);

export function pythonArtifactPath(name: string): string {
  return fileURLToPath(new URL(name, ARTIFACT_DIR));
}

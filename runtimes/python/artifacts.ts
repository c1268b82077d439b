/**
 * Where the committed CPython-for-WASI artifacts live (built by runtimes/python/build.sh).
 */
import { join } from "node:path";
import { projectFile } from "../../wasm/host/project-file.js";

export const PYTHON_ARTIFACTS = Object.freeze({
  /** The reactor module (exports _initialize, pyreactor_init, pyreactor_run, pyreactor_alloc/free). */
  module: "python.wasm",
  /** The pyc-only standard library, mounted in the guest at STDLIB_ZIP_GUEST_PATH. */
  stdlib: "python311.zip",
});

/** Must match the module search path compiled into reactor.c. */
export const STDLIB_ZIP_GUEST_PATH = "/usr/local/lib/python311.zip";

/** Found from the source tree and from its compiled copy under dist/ alike. */
export function pythonArtifactPath(name: string): string {
  return join(projectFile("wasm/python/SHA256SUMS", import.meta.url), "..", name);
}

/**
 * Finds a file of this project (an artifact under wasm/ or a built bundle) from a module
 * that may run from its source (`runtimes/x/y.ts`) or compiled (`dist/runtimes/x/y.js`): the nearest
 * ancestor directory of the caller that holds the relative path wins.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function projectFile(relativePath: string, fromUrl: string): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${relativePath} not found above ${dirname(fileURLToPath(fromUrl))}`);
    dir = parent;
  }
}

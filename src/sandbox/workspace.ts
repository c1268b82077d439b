/**
 * Workspace paths and the "files created or changed" diff, shared by every sandbox.
 * Paths are relative to WORKSPACE, POSIX, normalised, and never leave it.
 */
import type { WorkspaceFile } from "./types.js";

export const MAX_PATH_LENGTH = 1024;
const MAX_SEGMENTS = 64;

/**
 * Normalise a user-supplied path to a relative workspace path, or return null when it would leave
 * the workspace (absolute paths outside it, `..` escapes, NUL bytes, empty names).
 * `/workspace/a/b`, `a/b`, `./a//b` all give `a/b`.
 */
export function normaliseWorkspacePath(input: string): string | null {
  if (input.length === 0 || input.length > MAX_PATH_LENGTH || input.includes("\0")) return null;
  let rest = input.replace(/\\/g, "/");
  if (rest.startsWith("/")) {
    if (rest === "/workspace" || !rest.startsWith("/workspace/")) return null;
    rest = rest.slice("/workspace/".length);
  }
  const out: string[] = [];
  for (const segment of rest.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") return null;
    out.push(segment);
  }
  if (out.length === 0 || out.length > MAX_SEGMENTS) return null;
  return out.join("/");
}

/** Files in `after` that are new or whose bytes differ from `before`, sorted by path. */
export function changedFiles(before: readonly WorkspaceFile[], after: readonly WorkspaceFile[]): WorkspaceFile[] {
  const original = new Map(before.map((f) => [f.path, f.content]));
  return after
    .filter((f) => {
      const old = original.get(f.path);
      return old === undefined || !bytesEqual(old, f.content);
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

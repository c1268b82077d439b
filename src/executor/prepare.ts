/**
 * Turns a validated HTTP body into the ExecutionRequest a sandbox runs: decodes files, normalises
 * their paths into the workspace, and refuses paths that leave it or collide.
 */
import { ServiceError } from "../errors.js";
import type { ExecuteRequestBody } from "../http/schemas.js";
import { type ExecutionRequest, SCRIPT_FILES, type WorkspaceFile } from "../sandbox/types.js";
import { normaliseWorkspacePath } from "../sandbox/workspace.js";

export function prepareRequest(body: ExecuteRequestBody): ExecutionRequest {
  const script = SCRIPT_FILES[body.language];
  const taken = new Set<string>([script]);
  const directories = new Set<string>();
  const problems: Array<{ path: string; message: string }> = [];
  const files: WorkspaceFile[] = [];
  body.files.forEach((file, i) => {
    const path = normaliseWorkspacePath(file.path);
    if (path === null) {
      problems.push({ path: `files.${i}.path`, message: "must stay inside /workspace" });
      return;
    }
    if (path === script) {
      problems.push({ path: `files.${i}.path`, message: `${script} is where the code itself is written` });
      return;
    }
    const parents = parentDirectories(path);
    if (taken.has(path) || directories.has(path) || parents.some((d) => taken.has(d))) {
      problems.push({ path: `files.${i}.path`, message: "collides with another file" });
      return;
    }
    taken.add(path);
    for (const d of parents) directories.add(d);
    const content =
      file.encoding === "base64"
        ? new Uint8Array(Buffer.from(file.content, "base64"))
        : new TextEncoder().encode(file.content);
    files.push({ path, content });
  });
  if (problems.length > 0) {
    throw new ServiceError("VALIDATION_FAILED", problems.map((p) => `${p.path}: ${p.message}`).join("; "), {
      issues: problems,
    });
  }
  return { language: body.language, code: body.code, stdin: body.stdin, args: body.args, env: body.env, files };
}

/** `a/b/c` -> [`a`, `a/b`]. */
function parentDirectories(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

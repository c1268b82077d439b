/**
 * A test double registered as the wasm sandbox: it does not run code, it acts out the `code` string,
 * so HTTP security tests are fast and can produce any outcome on demand:
 *   "violation"  -> SANDBOX_VIOLATION     "timeout" -> TIMEOUT
 *   "sleep:<ms>" -> waits, then exits 0   "env"     -> prints the request env as JSON
 * Anything else exits 0 with empty output.
 */
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import type { ExecutionRequest, ExecutionResult, Sandbox } from "../../src/sandbox/types.js";

const RUNTIME = { name: "scripted", version: "0" };

function result(partial: Partial<ExecutionResult>): ExecutionResult {
  return {
    runtime: RUNTIME,
    exitCode: 0,
    stdout: "",
    stderr: "",
    truncated: { stdout: false, stderr: false },
    files: [],
    durationMs: 1,
    ...partial,
  };
}

export class ScriptedSandbox implements Sandbox {
  readonly kind = "wasm" as const;
  running = 0;
  maxRunning = 0;

  availability() {
    return { available: true } as const;
  }

  languages() {
    return [{ language: "javascript" as const, runtime: RUNTIME }];
  }

  async execute(request: ExecutionRequest): Promise<ExecutionResult> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      const sleep = /^sleep:(\d+)$/.exec(request.code);
      if (sleep) await new Promise((resolve) => setTimeout(resolve, Number(sleep[1])));
      switch (request.code) {
        case "violation":
          return result({ exitCode: null, error: { code: "SANDBOX_VIOLATION", message: "forbidden" } });
        case "timeout":
          return result({ exitCode: null, error: { code: "TIMEOUT", message: "too slow" } });
        case "env":
          return result({ stdout: JSON.stringify(request.env) });
        default:
          return result({});
      }
    } finally {
      this.running--;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {}
}

export function scriptedSandboxes(sandbox = new ScriptedSandbox()) {
  return { sandbox, deps: { createSandboxes: async () => new SandboxRegistry([sandbox]) } };
}

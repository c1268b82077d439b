/**
 * One Python execution: a never-used instance restored from the snapshot on a fresh capped Memory,
 * prepared ahead of time by a SparePool (one spare per worker by default, refilled after each
 * run) and primed there (pyreactor_prime reseeds `random`, with only random_get and the clocks to
 * call: ~0.1 ms off each run) and given its own unstarted WASI host and stdlib preopen (instance.ts
 * pythonHostAhead), then pyreactor_run. The instance is dropped after its one execution.
 *
 * Outcomes:
 * - pyreactor_run returns n (0..255) -> exitCode n, NON_ZERO_EXIT when n != 0 (an uncaught exception
 *   is 1 with its traceback on stderr, `sys.exit(n)` is n);
 * - an uncaught MemoryError after an allocation failed (the cap) -> exitCode 1, MEMORY_LIMIT (a
 *   MemoryError without a failed allocation, like the parser's nesting limit, is NON_ZERO_EXIT);
 * - proc_exit(n) (`os._exit(n)`) -> exitCode n;
 * - a snapshot that does not fit the cap, or a trap while memory is at the cap -> MEMORY_LIMIT;
 * - GuestLimitError from a host import (output, filesystem, deadline) -> its code, exitCode null;
 * - any other trap (stack exhaustion, abort from a fatal interpreter error) -> SANDBOX_FAULT;
 * - pyreactor_run < 0 (the request could not be applied) is a host fault and is thrown.
 */

import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import {
  type ExecutionOutcome,
  type ExecutionRequest,
  SCRIPT_FILES,
  WORKSPACE,
  type WorkspaceFile,
} from "../../src/sandbox/types.js";
import {
  DEFAULT_RUNNER_OPTIONS,
  type RunContext,
  type Runner,
  type RunnerOptions,
  type RunOutcome,
} from "../../src/sandbox/wasm/runtime.js";
import { isGuestLimitError } from "../../wasm/host/guest-limit.js";
import { restoredPages } from "../../wasm/host/snapshot-module.js";
import { isWasiExit } from "../../wasm/host/wasi-host.js";
import { restoredSpares } from "../restored-spares.js";
import { encodeRunRequest, MEMORY_ERROR_FLAG, PythonGuest } from "./guest.js";
import { pythonHostAhead, startPythonHost } from "./instance.js";
import type { PythonAssets } from "./wasm.js";

/** A trap with less than this much room left under the cap counts as memory exhaustion. */
const NEAR_CAP_BYTES = 8 * 1024 * 1024;

export const SCRIPT_PATH = `${WORKSPACE}/${SCRIPT_FILES.python}`;

function exited(exitCode: number, files: WorkspaceFile[]): RunOutcome {
  if (exitCode === 0) return { exitCode, files };
  return { exitCode, files, error: { code: "NON_ZERO_EXIT", message: `The code exited with status ${exitCode}.` } };
}

function memoryLimit(limitBytes: number, detail: string): ExecutionOutcome {
  return {
    code: "MEMORY_LIMIT",
    message: `The execution exceeded its memory limit of ${limitBytes} bytes (${detail}).`,
  };
}

/** V8 reports exhaustion of the native stack by deeply recursive wasm as a RangeError. */
function isStackOverflow(e: unknown): e is RangeError {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

export async function createPythonRunner(
  assets: PythonAssets,
  options: RunnerOptions = DEFAULT_RUNNER_OPTIONS,
): Promise<Runner> {
  // Not counted by the preparation gauge: a run is better off waiting for Python's ~1.8 ms
  // rewrite than running beside it (preparation-gauge.ts).
  const restored = await restoredSpares(
    assets,
    { ...options, gauge: undefined },
    (spare) => new PythonGuest(spare.instance, spare.memory).prime(),
    () => pythonHostAhead(assets.stdlib, assets.library),
  );
  const spares = restored.pool;
  return {
    async run(request: ExecutionRequest, context: RunContext): Promise<RunOutcome> {
      const limitBytes = context.limits.memoryLimitBytes;
      const maxPages = Math.floor(limitBytes / WASM_PAGE_BYTES);
      const script: WorkspaceFile = { path: SCRIPT_FILES.python, content: new TextEncoder().encode(request.code) };
      const files = [...request.files.filter((f) => f.path !== script.path), script];
      const initial = restoredPages(assets);
      if (initial > maxPages) {
        return {
          exitCode: null,
          files,
          error: memoryLimit(limitBytes, `the Python interpreter alone needs ${initial * WASM_PAGE_BYTES} bytes`),
        };
      }
      const { instance, memory, attach, ahead } = await spares.take(limitBytes);
      spares.refill(limitBytes);
      const { host, fs } = startPythonHost(ahead, {
        files,
        stdin: request.stdin,
        maxFilesystemBytes: context.limits.maxFilesystemBytes,
        context,
      });
      attach(host);
      const guest = new PythonGuest(instance, memory);
      const nearCap = (): boolean => memory.buffer.byteLength + NEAR_CAP_BYTES >= maxPages * WASM_PAGE_BYTES;

      // Whether the interpreter returned or exited on its own (no trap, no host limit unwinding it).
      let ended = false;
      try {
        const status = guest.run(
          encodeRunRequest({
            cwd: WORKSPACE,
            argv: [SCRIPT_PATH, ...request.args],
            env: request.env,
            source: script.content,
          }),
        );
        ended = true;
        if (status < 0) throw new Error(`pyreactor_run could not start the script (status ${status})`);
        if (status & MEMORY_ERROR_FLAG) {
          return { exitCode: status & 0xff, files: fs.listWorkspace(), error: memoryLimit(limitBytes, "MemoryError") };
        }
        return exited(status & 0xff, fs.listWorkspace());
      } catch (e) {
        if (isWasiExit(e)) {
          ended = true;
          const exitCode = e.code & 0xff;
          if (exitCode !== 0 && nearCap()) {
            return {
              exitCode: null,
              files: fs.listWorkspace(),
              error: memoryLimit(limitBytes, "fatal allocation failure"),
            };
          }
          return exited(exitCode, fs.listWorkspace());
        }
        if (isGuestLimitError(e)) {
          return { exitCode: null, files: fs.listWorkspace(), error: { code: e.code, message: e.message } };
        }
        if (e instanceof WebAssembly.RuntimeError || isStackOverflow(e)) {
          if (nearCap())
            return { exitCode: null, files: fs.listWorkspace(), error: memoryLimit(limitBytes, e.message) };
          return {
            exitCode: null,
            files: fs.listWorkspace(),
            error: {
              code: "SANDBOX_FAULT",
              message: `The Python interpreter trapped (${e.message}); the instance was discarded.`,
            },
          };
        }
        throw e;
      } finally {
        // Nothing calls this instance again (Python keeps no host callbacks or finalizers into it):
        // its memory's pages may serve the next spare, every byte rewritten (restored-spares.ts).
        if (ended) restored.recycle(memory, limitBytes);
      }
    },
  };
}

/**
 * One Ruby execution: fresh Memory (capped), fresh Instance, snapshot restore, bootstrap, outcome.
 *
 * Outcomes:
 * - bootstrap returns status 0 -> exitCode 0, no error; status n -> exitCode n, NON_ZERO_EXIT;
 * - proc_exit(n) (`exit!`) -> exitCode n (NON_ZERO_EXIT when n != 0);
 * - NoMemoryError, a snapshot that does not fit the cap, or a trap / fatal exit while memory is at
 *   the cap -> MEMORY_LIMIT, exitCode null;
 * - GuestLimitError from a host import (output, filesystem, deadline, JS bridge) -> its code, exitCode null;
 * - any other trap (stack exhaustion, `unreachable` from a Ruby [BUG]) -> SANDBOX_FAULT, exitCode null.
 */
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import type { ExecutionOutcome, ExecutionRequest, WorkspaceFile } from "../../src/sandbox/types.js";
import type { RunContext, Runner, RunOutcome } from "../../src/sandbox/wasm/runtime.js";
import { isGuestLimitError } from "../../wasm/host/guest-limit.js";
import { restoreSnapshot } from "../../wasm/host/memory-snapshot.js";
import { createWasiHost, isWasiExit } from "../../wasm/host/wasi-host.js";
import { createGuestFilesystem } from "../../wasm/host/wasi-workspace.js";
import { BOOTSTRAP_FAILED_STATUS, bootstrapSource, MEMORY_EXHAUSTED_STATUS } from "./bootstrap.js";
import { fixnumValue, RubyGuest, sealedRubyImports } from "./ruby-abi.js";
import type { RubyAssets } from "./wasm.js";

/** A trap or fatal exit with less than this much room left under the cap counts as memory exhaustion. */
const NEAR_CAP_BYTES = 16 * 1024 * 1024;

const SCRIPT_NAME = "main.rb";

function outcomeFor(status: number): ExecutionOutcome | undefined {
  if (status === 0) return undefined;
  return { code: "NON_ZERO_EXIT", message: `The code exited with status ${status}.` };
}

function memoryLimit(limitBytes: number, detail: string): ExecutionOutcome {
  return {
    code: "MEMORY_LIMIT",
    message: `The execution exceeded its memory limit of ${limitBytes} bytes (${detail}).`,
  };
}

export function createRubyRunner(assets: RubyAssets): Runner {
  const sealed = sealedRubyImports(assets.module, assets.memoryImport);
  return {
    async run(request: ExecutionRequest, context: RunContext): Promise<RunOutcome> {
      const limitBytes = context.limits.memoryLimitBytes;
      const maxPages = Math.floor(limitBytes / WASM_PAGE_BYTES);
      const fs = createGuestFilesystem({ files: request.files, maxFilesystemBytes: context.limits.maxFilesystemBytes });
      const code = new TextEncoder().encode(request.code);
      fs.putFile(SCRIPT_NAME, code);
      const files = (): WorkspaceFile[] =>
        fs.listWorkspace().filter((f) => !(f.path === SCRIPT_NAME && equalBytes(f.content, code)));

      if (assets.snapshot.pages > maxPages) {
        return {
          exitCode: null,
          files: files(),
          error: memoryLimit(
            limitBytes,
            `the Ruby interpreter alone needs ${assets.snapshot.pages * WASM_PAGE_BYTES} bytes`,
          ),
        };
      }

      const host = createWasiHost({ args: [], env: request.env, stdin: request.stdin, context, preopens: fs.preopens });
      const initial = Math.max(assets.minimumPages, assets.snapshot.pages);
      const memory = new WebAssembly.Memory({ initial, maximum: maxPages });
      const instance = await WebAssembly.instantiate(assets.module, {
        ...sealed,
        wasi_snapshot_preview1: host.imports,
        [assets.memoryImport.module]: { [assets.memoryImport.name]: memory },
      });
      host.bind(instance);
      restoreSnapshot(assets.snapshot, memory, instance);
      const guest = new RubyGuest(instance);
      const nearCap = (): boolean => memory.buffer.byteLength + NEAR_CAP_BYTES >= maxPages * WASM_PAGE_BYTES;

      try {
        const { value, state } = guest.evalProtect(bootstrapSource(request.args, request.env));
        const status = state === 0 ? fixnumValue(value) : null;
        if (status === MEMORY_EXHAUSTED_STATUS) {
          return { exitCode: null, files: files(), error: memoryLimit(limitBytes, "NoMemoryError") };
        }
        if (status === null || status === BOOTSTRAP_FAILED_STATUS) {
          return {
            exitCode: 1,
            files: files(),
            error: {
              code: "NON_ZERO_EXIT",
              message: "The code exited abnormally (uncaught exception outside the script).",
            },
          };
        }
        const exitCode = status & 0xff;
        const error = outcomeFor(exitCode);
        return { exitCode, files: files(), ...(error ? { error } : {}) };
      } catch (e) {
        if (isWasiExit(e)) {
          const exitCode = e.code & 0xff;
          if (exitCode !== 0 && nearCap()) {
            return { exitCode: null, files: files(), error: memoryLimit(limitBytes, "fatal allocation failure") };
          }
          const error = outcomeFor(exitCode);
          return { exitCode, files: files(), ...(error ? { error } : {}) };
        }
        if (isGuestLimitError(e)) {
          return { exitCode: null, files: files(), error: { code: e.code, message: e.message } };
        }
        if (e instanceof WebAssembly.RuntimeError || isStackOverflow(e)) {
          if (nearCap()) return { exitCode: null, files: files(), error: memoryLimit(limitBytes, e.message) };
          return {
            exitCode: null,
            files: files(),
            error: {
              code: "SANDBOX_FAULT",
              message: `The Ruby interpreter trapped (${e.message}); the instance was discarded.`,
            },
          };
        }
        throw e;
      }
    },
  };
}

/** V8 reports exhaustion of the native stack by deeply recursive wasm as a RangeError. */
function isStackOverflow(e: unknown): e is RangeError {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One Ruby execution: a never-used instance restored from the snapshot on a fresh capped Memory,
 * prepared ahead of time by a SparePool (one spare per worker by default, refilled after each
 * run), primed there (bootstrap.ts BOOTSTRAP_PRIME seeds the PRNG) and given its own unstarted
 * WASI host, then the bootstrap, then the outcome. The instance is dropped after its one execution.
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
import {
  DEFAULT_RUNNER_OPTIONS,
  type RunContext,
  type Runner,
  type RunnerOptions,
  type RunOutcome,
} from "../../src/sandbox/wasm/runtime.js";
import { isGuestLimitError } from "../../wasm/host/guest-limit.js";
import { httpDevicePreopen } from "../../wasm/host/http-device.js";
import { type RestoreTarget, restoredPages } from "../../wasm/host/snapshot-module.js";
import { isWasiExit, unstartedWasiHost } from "../../wasm/host/wasi-host.js";
import { createGuestFilesystem } from "../../wasm/host/wasi-workspace.js";
import { restoredSpares } from "../restored-spares.js";
import { BOOTSTRAP_FAILED_STATUS, BOOTSTRAP_PRIME, bootstrapCall, MEMORY_EXHAUSTED_STATUS } from "./bootstrap.js";
import { fixnumValue, RubyGuest, sealedRubyImports } from "./ruby-abi.js";
import { decodeStdlib, rubyPreopens, stdlibTree } from "./stdlib.js";
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

export async function createRubyRunner(
  assets: RubyAssets,
  options: RunnerOptions = DEFAULT_RUNNER_OPTIONS,
): Promise<Runner> {
  const target: RestoreTarget = {
    ...assets,
    otherImports: sealedRubyImports(assets.module, assets.memoryImport),
  };
  const restored = await restoredSpares(
    target,
    options,
    (spare) => {
      const { value, state } = new RubyGuest(spare.instance).evalProtect(BOOTSTRAP_PRIME);
      if (state !== 0 || fixnumValue(value) !== 0) throw new Error("the ruby bootstrap's prime step failed");
    },
    // Each spare's own WASI host, built with it (its execution starts it): off the execution's path.
    () => unstartedWasiHost(),
  );
  const stdlib = stdlibTree(decodeStdlib(assets.stdlib));
  const spares = restored.pool;
  return {
    async run(request: ExecutionRequest, context: RunContext): Promise<RunOutcome> {
      const limitBytes = context.limits.memoryLimitBytes;
      const maxPages = Math.floor(limitBytes / WASM_PAGE_BYTES);
      const fs = createGuestFilesystem({ files: request.files, maxFilesystemBytes: context.limits.maxFilesystemBytes });
      const code = new TextEncoder().encode(request.code);
      fs.putFile(SCRIPT_NAME, code);
      const files = (): WorkspaceFile[] =>
        fs.listWorkspace().filter((f) => !(f.path === SCRIPT_NAME && equalBytes(f.content, code)));

      if (restoredPages(target) > maxPages) {
        return {
          exitCode: null,
          files: files(),
          error: memoryLimit(
            limitBytes,
            `the Ruby interpreter alone needs ${assets.snapshot.pages * WASM_PAGE_BYTES} bytes`,
          ),
        };
      }

      const { instance, memory, attach, ahead } = await spares.take(limitBytes);
      spares.refill(limitBytes);
      const preopens = rubyPreopens(fs.preopens, stdlib, httpDevicePreopen(context.http));
      attach(ahead.start({ env: request.env, stdin: request.stdin, context, preopens }));
      const guest = new RubyGuest(instance);
      const nearCap = (): boolean => memory.buffer.byteLength + NEAR_CAP_BYTES >= maxPages * WASM_PAGE_BYTES;

      // Whether the interpreter returned or exited on its own (no trap, no host limit unwinding it).
      let ended = false;
      try {
        const { value, state } = guest.evalProtect(bootstrapCall(request.args, request.env));
        ended = true;
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
          ended = true;
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
      } finally {
        // Nothing calls this instance again: we drive ruby.wasm's exports ourselves (ruby-abi.ts), so
        // no RubyVM wrapper or finalizer holds it (the warning is about those). Its memory's
        // pages may serve the next spare, every byte rewritten (restored-spares.ts).
        if (ended) restored.recycle(memory, limitBytes);
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

/**
 * The data exchanged between the host (runtimes/bash/wasm.ts) and the guest driver evaluated inside
 * QuickJS (guest/driver.ts). Strings and ArrayBuffers only cross the boundary; no host object or
 * function is ever handed to the guest.
 */
import type { BashOptions } from "just-bash/browser";
import { SCRIPT_FILES, WORKSPACE } from "../../../src/sandbox/types.js";

/** just-bash's ExecutionLimits (not re-exported by its browser entry). */
export type ExecutionLimits = NonNullable<BashOptions["executionLimits"]>;

/** What the host passes to `__sandbox.bash.start(json, ...fileContents)`. */
export interface GuestRequest {
  readonly script: string;
  readonly stdin: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Absolute guest paths; their contents follow `start`'s first argument, in the same order. */
  readonly files: readonly string[];
  readonly limits: ExecutionLimits;
  /** Bytes the script may add to the filesystem beyond what it holds once the inputs are written. */
  readonly writableBytes: number;
}

/** What `__sandbox.bash.summary()` returns (as JSON) once the run settled. */
export interface GuestSummary {
  readonly exitCode: number;
  /** Workspace-relative paths of every regular file; `__sandbox.bash.file(i)` returns the bytes. */
  readonly files: readonly string[];
  /** Set when the guest driver itself failed (an exception escaped just-bash). */
  readonly failure?: { readonly name: string; readonly message: string };
  /** True when a write was refused because the filesystem quota was reached. */
  readonly quotaExceeded: boolean;
}

/**
 * The guest's view of the run: still running, waiting for the host to answer an HTTP request
 * (guest/host-http.ts), or settled (success or failure alike).
 */
export type GuestState = "idle" | "running" | "http" | "settled";

export const GUEST_WORKSPACE = WORKSPACE;
export const GUEST_SCRIPT_PATH = `${WORKSPACE}/${SCRIPT_FILES.bash}`;

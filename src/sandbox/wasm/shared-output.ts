/**
 * A capped output stream in shared memory: the worker writes into it while the guest runs; the main
 * thread reads it when the execution ends, including after it killed the worker, so output produced
 * before a kill is never lost. The cap is enforced on every write, not afterwards.
 *
 * A worker's buffers are reused from one run to the next (allocating and freeing two megabyte-sized
 * shared buffers per execution cost the main thread ~0.3 ms). Each run claims them first: the length
 * and the truncation flag are reset and the run's id becomes the owner, so only bytes this run wrote
 * are ever read back, and a sink still held for an earlier run refuses to write.
 */
import { GuestLimitError } from "../../../wasm/host/guest-limit.js";
import type { OutputSink } from "./runtime.js";

// Int32 words: length written, truncated flag, id of the run that owns the buffer (as an int32).
const LENGTH = 0;
const TRUNCATED = 1;
const OWNER = 2;
const HEADER_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function allocateSharedOutput(capacityBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + capacityBytes);
}

/** Bytes a shared output buffer holds. */
export function sharedOutputCapacity(buffer: SharedArrayBuffer): number {
  return buffer.byteLength - HEADER_BYTES;
}

/** Makes `buffer` empty and owned by run `owner` (the main thread, before it hands the run over). */
export function claimSharedOutput(buffer: SharedArrayBuffer, owner: number): SharedArrayBuffer {
  const header = new Int32Array(buffer, 0, 3);
  Atomics.store(header, OWNER, owner | 0);
  Atomics.store(header, LENGTH, 0);
  Atomics.store(header, TRUNCATED, 0);
  return buffer;
}

export class SharedOutputSink implements OutputSink {
  private readonly header: Int32Array;
  private readonly data: Uint8Array;
  /** The owning run's id as the header stores it. */
  private readonly owner: number;

  constructor(buffer: SharedArrayBuffer, owner: number) {
    this.owner = owner | 0;
    this.header = new Int32Array(buffer, 0, 3);
    this.data = new Uint8Array(buffer, HEADER_BYTES);
  }

  get length(): number {
    return Atomics.load(this.header, LENGTH);
  }

  write(chunk: Uint8Array | string): void {
    if (Atomics.load(this.header, OWNER) !== this.owner) {
      throw new Error(`output buffer belongs to run ${Atomics.load(this.header, OWNER)}, not ${this.owner}`);
    }
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    const used = this.length;
    const room = this.data.byteLength - used;
    const n = Math.min(room, bytes.byteLength);
    if (n > 0) {
      this.data.set(n === bytes.byteLength ? bytes : bytes.subarray(0, n), used);
      Atomics.store(this.header, LENGTH, used + n);
    }
    if (n < bytes.byteLength) {
      Atomics.store(this.header, TRUNCATED, 1);
      throw new GuestLimitError("OUTPUT_LIMIT", `output exceeded ${this.data.byteLength} bytes`);
    }
  }
}

export interface CapturedOutput {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly truncated: boolean;
}

/** What run `owner` wrote; the buffer must not have been claimed by another run since. */
export function readSharedOutput(buffer: SharedArrayBuffer, owner: number): CapturedOutput {
  const header = new Int32Array(buffer, 0, 3);
  if (Atomics.load(header, OWNER) !== (owner | 0)) {
    throw new Error(`output buffer belongs to run ${Atomics.load(header, OWNER)}, not ${owner}`);
  }
  const length = Atomics.load(header, LENGTH);
  const bytes = new Uint8Array(buffer, HEADER_BYTES, length).slice();
  return { bytes, text: decoder.decode(bytes), truncated: Atomics.load(header, TRUNCATED) === 1 };
}

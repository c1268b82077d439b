/**
 * A capped output stream in shared memory: the worker writes into it while the guest runs; the main
 * thread reads it when the execution ends, including after it killed the worker, so output produced
 * before a kill is never lost. The cap is enforced on every write, not afterwards.
 */
import { GuestLimitError } from "../../../wasm/host/guest-limit.js";
import type { OutputSink } from "./runtime.js";

const HEADER_BYTES = 8; // Int32 length, Int32 truncated flag
const encoder = new TextEncoder();

export function allocateSharedOutput(capacityBytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + capacityBytes);
}

export class SharedOutputSink implements OutputSink {
  private readonly header: Int32Array;
  private readonly data: Uint8Array;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 2);
    this.data = new Uint8Array(buffer, HEADER_BYTES);
  }

  get length(): number {
    return Atomics.load(this.header, 0);
  }

  write(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
    const used = this.length;
    const room = this.data.byteLength - used;
    const n = Math.min(room, bytes.byteLength);
    if (n > 0) {
      this.data.set(n === bytes.byteLength ? bytes : bytes.subarray(0, n), used);
      Atomics.store(this.header, 0, used + n);
    }
    if (n < bytes.byteLength) {
      Atomics.store(this.header, 1, 1);
      throw new GuestLimitError("OUTPUT_LIMIT", `output exceeded ${this.data.byteLength} bytes`);
    }
  }
}

export interface CapturedOutput {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly truncated: boolean;
}

export function readSharedOutput(buffer: SharedArrayBuffer): CapturedOutput {
  const header = new Int32Array(buffer, 0, 2);
  const length = Atomics.load(header, 0);
  const bytes = new Uint8Array(buffer, HEADER_BYTES, length).slice();
  return { bytes, text: new TextDecoder().decode(bytes), truncated: Atomics.load(header, 1) === 1 };
}

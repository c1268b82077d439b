/**
 * Snapshot and restore of a QuickJS instance's linear memory.
 *
 * What makes this sufficient: the QuickJS build exports no mutable globals and imports its memory,
 * so all C state (heap, malloc state incl. the sbrk break, QuickJS runtime/context, interrupt and
 * memory-limit settings) lives in linear memory. The one internal global, the shadow-stack pointer,
 * is back at its base whenever control is in the host between calls, provided no call trapped;
 * after a trap the instance is discarded instead of restored (see bash-instance.ts).
 * Memory never shrinks, so restore rewrites the snapshot's range and zeroes everything above it.
 *
 * The snapshot is kept as a MemoryImage: only the pages holding a non-zero byte (after the bundle's
 * evaluation 209 of 308 pages: the rest is the untouched part of emscripten's 5 MiB stack and the
 * heap's top), so it is a third smaller to copy, send from the boot process and keep per instance.
 * `image` also seeds a brand-new instance (bash-instance.ts `BashInstance.clone`), whose own
 * snapshot is then taken over it: the seed's image plus the pages that differ from it.
 */
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { isZeroRange, zeroDirtyMemory } from "../../wasm/host/zero-blocks.js";

/** The non-zero pages of a linear memory; every other byte below `byteLength` is zero. */
export interface MemoryImage {
  /** Size of the memory the image was taken from. */
  readonly byteLength: number;
  /** Page-aligned [offset, length] pairs of the captured runs, ascending, never touching each other. */
  readonly runs: Uint32Array;
  /** The runs' bytes, back to back. */
  readonly data: Uint8Array;
}

/** Whether the page at `offset` of `view` holds only zeros (reading an untouched page commits no memory). */
function zeroPage(view: Buffer, offset: number): boolean {
  return isZeroRange(view, offset, offset + WASM_PAGE_BYTES);
}

function bufferOf(memory: WebAssembly.Memory): Buffer {
  return Buffer.from(memory.buffer, 0, memory.buffer.byteLength);
}

/** A copy of the memory's non-zero pages. */
export function captureImage(memory: WebAssembly.Memory): MemoryImage {
  const view = bufferOf(memory);
  return copyPages(view, (offset) => !zeroPage(view, offset));
}

/**
 * A copy of the pages of `memory` that differ from `base`, an image of a memory of the same size: what
 * changed since `memory` was written from `base`. Every page is read (compared with `base`'s bytes,
 * or checked for zeros where `base` has none), only the changed ones are copied.
 */
export function captureChanges(memory: WebAssembly.Memory, base: MemoryImage): MemoryImage {
  const view = bufferOf(memory);
  if (view.byteLength !== base.byteLength) throw new RangeError("memory and image differ in size");
  const baseData = Buffer.from(base.data.buffer, base.data.byteOffset, base.data.byteLength);
  let run = 0;
  let at = 0;
  return copyPages(view, (offset) => {
    while (run < base.runs.length && offset >= (base.runs[run] ?? 0) + (base.runs[run + 1] ?? 0)) {
      at += base.runs[run + 1] ?? 0;
      run += 2;
    }
    const start = base.runs[run] ?? Number.POSITIVE_INFINITY;
    if (offset < start) return !zeroPage(view, offset);
    const from = at + offset - start;
    return view.compare(baseData, from, from + WASM_PAGE_BYTES, offset, offset + WASM_PAGE_BYTES) !== 0;
  });
}

/** The pages of `view` for which `keep(offset)` holds, adjacent ones as one run, copied. */
function copyPages(view: Buffer, keep: (offset: number) => boolean): MemoryImage {
  const pairs: number[] = [];
  let size = 0;
  let runStart = -1;
  for (let offset = 0; offset <= view.byteLength; offset += WASM_PAGE_BYTES) {
    const kept = offset < view.byteLength && keep(offset);
    if (kept && runStart < 0) runStart = offset;
    if (!kept && runStart >= 0) {
      pairs.push(runStart, offset - runStart);
      size += offset - runStart;
      runStart = -1;
    }
  }
  const runs = Uint32Array.from(pairs);
  const data = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < runs.length; i += 2) {
    const offset = runs[i] ?? 0;
    const length = runs[i + 1] ?? 0;
    data.set(view.subarray(offset, offset + length), at);
    at += length;
  }
  return { byteLength: view.byteLength, runs, data };
}

/**
 * Bring `memory` to `image`: the runs copied in, every other byte zeroed, including everything above
 * `image.byteLength` (a 4 KiB page already zero is only read, never written). `memory` must be at least that large.
 */
export function writeImage(image: MemoryImage, memory: WebAssembly.Memory): void {
  const view = bufferOf(memory);
  if (view.byteLength < image.byteLength) throw new RangeError("memory is smaller than the image");
  let next = 0;
  for (let i = 0; i < image.runs.length; i += 2) {
    const offset = image.runs[i] ?? 0;
    zeroDirtyMemory(memory, next, offset);
    next = offset + (image.runs[i + 1] ?? 0);
  }
  // The image's zero tail and everything the memory grew past it, in one scan.
  zeroDirtyMemory(memory, next, view.byteLength);
  writeRuns(image, memory);
}

/** Copies `image`'s runs into `memory`, leaving every other byte as it is. */
function writeRuns(image: MemoryImage, memory: WebAssembly.Memory): void {
  const view = bufferOf(memory);
  let at = 0;
  for (let i = 0; i < image.runs.length; i += 2) {
    const offset = image.runs[i] ?? 0;
    const length = image.runs[i + 1] ?? 0;
    view.set(image.data.subarray(at, at + length), offset);
    at += length;
  }
}

export class MemorySnapshot {
  /**
   * What restore writes back first (read-only by convention: shared with clones as their starting
   * point). A snapshot taken over a base image is that image itself, shared, plus `changes`.
   */
  readonly image: MemoryImage;
  /** With a base image: the pages that differed from it when the snapshot was taken. */
  private readonly changes: MemoryImage | undefined;

  /**
   * Without `base`, a copy of the memory's non-zero pages. With `base`, the image this memory was
   * written from (same size): that image plus a copy of the pages that differ from it, so a clone
   * keeps its seed's bytes once for every clone in the process instead of a copy of its own (13 MiB
   * for Bash) and its snapshot copies only the few pages its own setup changed.
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base?: MemoryImage,
  ) {
    this.image = base ?? captureImage(memory);
    this.changes = base && captureChanges(memory, base);
  }

  /** Size of the memory at capture: the baseline a run's memory limit is checked against. */
  get byteLength(): number {
    return this.image.byteLength;
  }

  restore(): void {
    writeImage(this.image, this.memory);
    if (this.changes) writeRuns(this.changes, this.memory);
  }
}

/**
 * A sparse copy of a WebAssembly linear memory, written into a new (zero-filled) memory to bring it
 * to the captured state.
 *
 * Why sparse: QuickJS's memory is mostly zero (measured: of a 5.5 MiB used prefix after the
 * prelude, ~0.3 MiB is non-zero; the rest is the untouched shadow stack between the data section and
 * the heap), and touching a page of a new memory costs a page fault and the kernel zeroing it
 * (measured ~1 ms per MiB on this machine). So only blocks that hold a non-zero byte are copied.
 *
 * Exactness: the target is not all zero when the image is applied (the engine was already set up in
 * it, instance.ts `newEngine`), so a block must also be copied where the target holds data the
 * captured state does not. The caller passes those blocks as `alsoBlocks`: the non-zero blocks of
 * the same memory at the point a target will be at (its setup is deterministic, so the same blocks).
 * Everything outside the copied blocks is then zero in both.
 *
 * Posting: `toPlain` / `fromPlain` turn an image into structured-cloneable data and back (the
 * JavaScript seed is built in the loader thread and cloned in every worker, seed-image.ts);
 * `fromPlain` validates the form strictly, since a run outside its place would write anywhere.
 */
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { BLOCK_BYTES, isZeroRange } from "../../wasm/host/zero-blocks.js";

/** Granularity of the copy: one OS page. */
export { BLOCK_BYTES };

/** One flag per BLOCK_BYTES block: 1 where the block holds a non-zero byte. */
export function nonZeroBlocks(memory: WebAssembly.Memory): Uint8Array {
  const bytes = new Uint8Array(memory.buffer);
  const flags = new Uint8Array(Math.ceil(bytes.byteLength / BLOCK_BYTES));
  for (let block = 0; block < flags.length; block++) {
    const start = block * BLOCK_BYTES;
    if (!isZeroRange(bytes, start, Math.min(bytes.byteLength, start + BLOCK_BYTES))) flags[block] = 1;
  }
  return flags;
}

/** A linear memory is at most 65,536 pages (4 GiB). */
const MAX_MEMORY_BYTES = 65_536 * WASM_PAGE_BYTES;

/**
 * A MemoryImage as structured-cloneable data (posted from the loader thread to every worker). Its
 * `data` may sit in a SharedArrayBuffer that every worker reads; nothing ever writes to it.
 */
export interface PlainMemoryImage {
  readonly memoryBytes: number;
  /** [start, end) byte offsets of the copied runs, in pairs. */
  readonly runs: Uint32Array;
  readonly data: Uint8Array;
}

export class MemoryImage {
  private constructor(
    /** The captured memory's size: a target must be exactly this large. */
    readonly memoryBytes: number,
    /** [start, end) byte offsets of the copied runs, in pairs. */
    private readonly runs: Uint32Array,
    /** The runs' bytes, back to back. */
    private readonly data: Uint8Array,
  ) {}

  /** Captures the blocks of `memory` that are non-zero now or flagged in `alsoBlocks`. */
  static capture(memory: WebAssembly.Memory, alsoBlocks: Uint8Array): MemoryImage {
    const flags = nonZeroBlocks(memory);
    const source = new Uint8Array(memory.buffer);
    const runs: number[] = [];
    let total = 0;
    for (let block = 0; block < flags.length; ) {
      if (!flags[block] && !alsoBlocks[block]) {
        block++;
        continue;
      }
      const start = block;
      while (block < flags.length && (flags[block] || alsoBlocks[block])) block++;
      const from = start * BLOCK_BYTES;
      const to = Math.min(source.byteLength, block * BLOCK_BYTES);
      runs.push(from, to);
      total += to - from;
    }
    const data = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const run = source.subarray(runs[i], runs[i + 1]);
      data.set(run, at);
      at += run.byteLength;
    }
    return new MemoryImage(source.byteLength, Uint32Array.from(runs), data);
  }

  /**
   * Validates a plain form (see toPlain) and wraps it: a well-formed image of a memory of
   * `memoryBytes` (runs block-aligned, ascending, apart, inside the memory; data exactly their
   * bytes). `runs` is copied (a later change to the source cannot move a write); `data` is not
   * (any bytes are valid, and it may be one SharedArrayBuffer that every worker shares).
   */
  static fromPlain(value: unknown): MemoryImage {
    const fail = (why: string): never => {
      throw new Error(`memory image: invalid plain form: ${why}`);
    };
    if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("not an object");
    const keys = Object.keys(value).sort().join(",");
    if (keys !== "data,memoryBytes,runs") return fail(`unexpected fields (${keys})`);
    const { memoryBytes, runs, data } = value as Record<keyof PlainMemoryImage, unknown>;
    if (
      typeof memoryBytes !== "number" ||
      !Number.isInteger(memoryBytes) ||
      memoryBytes <= 0 ||
      memoryBytes > MAX_MEMORY_BYTES ||
      memoryBytes % WASM_PAGE_BYTES !== 0
    ) {
      return fail("memoryBytes is not a whole number of wasm pages");
    }
    if (!(runs instanceof Uint32Array) || runs.length % 2 !== 0) return fail("runs is not a Uint32Array of pairs");
    if (!(data instanceof Uint8Array)) return fail("data is not a Uint8Array");
    const copy = runs.slice();
    let previousEnd = -1;
    let total = 0;
    for (let i = 0; i < copy.length; i += 2) {
      const start = copy[i] ?? 0;
      const end = copy[i + 1] ?? 0;
      if (start % BLOCK_BYTES !== 0 || start <= previousEnd || end <= start || end > memoryBytes) {
        return fail(`run ${i / 2} [${start}, ${end}) is out of order, unaligned or outside the memory`);
      }
      if (end % BLOCK_BYTES !== 0 && end !== memoryBytes) return fail(`run ${i / 2} ends unaligned`);
      previousEnd = end;
      total += end - start;
    }
    if (data.byteLength !== total) return fail(`data holds ${data.byteLength} bytes, the runs ${total}`);
    return new MemoryImage(memoryBytes, copy, data);
  }

  /** This image as structured-cloneable data; MemoryImage.fromPlain takes it back. */
  toPlain(): PlainMemoryImage {
    return { memoryBytes: this.memoryBytes, runs: this.runs.slice(), data: this.data };
  }

  /** Bytes an apply copies. */
  get copiedBytes(): number {
    return this.data.byteLength;
  }

  /** Writes the captured runs into `memory`, which must be exactly as large as the captured one. */
  applyTo(memory: WebAssembly.Memory): void {
    if (memory.buffer.byteLength !== this.memoryBytes) throw new Error("memory image: target size differs");
    const target = new Uint8Array(memory.buffer);
    let at = 0;
    for (let i = 0; i < this.runs.length; i += 2) {
      const length = (this.runs[i + 1] ?? 0) - (this.runs[i] ?? 0);
      target.set(this.data.subarray(at, at + length), this.runs[i]);
      at += length;
    }
  }
}

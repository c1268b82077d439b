/**
 * Pre-initialised instances (the Wizer idea): run a module's expensive, trusted initialisation once,
 * capture its linear memory and mutable globals, and start every execution from a brand-new
 * instance whose memory and globals are set to that capture. No guest code has run when the
 * capture is taken, and every execution still gets its own Instance and Memory: nothing of one
 * execution can reach another.
 *
 * Requirements on the module: memory 0 imported (memory-import.ts), every mutable global exported
 * (global-export.ts), tables not mutated at run time (true of C programs without dynamic linking),
 * and host-side state (fd numbers, preopens) laid out identically at capture and at restore.
 *
 * Only non-zero 64 KiB pages are stored and copied, so restoring touches no more memory than the
 * captured instance had in use. The page data lives in a SharedArrayBuffer so that every worker
 * shares one copy; only host code ever reads it.
 */
import { WASM_PAGE_BYTES } from "../../src/sandbox/limits.js";
import { isZeroRange, zeroDirtyMemory } from "./zero-blocks.js";

export interface MemorySnapshot {
  /** Size of the captured memory, in pages. */
  readonly pages: number;
  /** Indexes of the stored (non-zero) pages, ascending. */
  readonly pageIndexes: Uint32Array;
  /** The stored pages, back to back, in `pageIndexes` order. */
  readonly data: Uint8Array;
  /** Values of the exported mutable globals, by export name. */
  readonly globals: Readonly<Record<string, number | bigint>>;
  /**
   * Whether a freshly instantiated memory holds data (active data segments) that restore must clear
   * first. False for modules whose segments are passive: restore then touches only stored pages.
   */
  readonly clearFirst: boolean;
}

/** True when every byte of `memory` is zero (checked once, at capture time, on a fresh instance). */
export function isMemoryZero(memory: WebAssembly.Memory): boolean {
  const bytes = new Uint8Array(memory.buffer);
  for (let p = 0; p < bytes.byteLength / WASM_PAGE_BYTES; p++)
    if (!isZeroPage(bytes, p * WASM_PAGE_BYTES)) return false;
  return true;
}

function isZeroPage(bytes: Uint8Array, start: number): boolean {
  return isZeroRange(bytes, start, start + WASM_PAGE_BYTES);
}

function sharedBytes(length: number): Uint8Array {
  return typeof SharedArrayBuffer === "function"
    ? new Uint8Array(new SharedArrayBuffer(length))
    : new Uint8Array(length);
}

/**
 * `freshMemoryWasZero`: what isMemoryZero() said of this instance's memory right after
 * instantiation, before any of its code ran.
 */
export function captureSnapshot(
  memory: WebAssembly.Memory,
  instance: WebAssembly.Instance,
  globalNames: readonly string[],
  freshMemoryWasZero: boolean,
): MemorySnapshot {
  const bytes = new Uint8Array(memory.buffer);
  const pages = bytes.byteLength / WASM_PAGE_BYTES;
  const kept: number[] = [];
  for (let p = 0; p < pages; p++) if (!isZeroPage(bytes, p * WASM_PAGE_BYTES)) kept.push(p);
  const data = sharedBytes(kept.length * WASM_PAGE_BYTES);
  kept.forEach((p, i) => {
    data.set(bytes.subarray(p * WASM_PAGE_BYTES, (p + 1) * WASM_PAGE_BYTES), i * WASM_PAGE_BYTES);
  });
  const globals: Record<string, number | bigint> = {};
  for (const name of globalNames) {
    const g = instance.exports[name];
    if (!(g instanceof WebAssembly.Global)) throw new Error(`export ${name} is not a global`);
    globals[name] = g.value as number | bigint;
  }
  return { pages, pageIndexes: Uint32Array.from(kept), data, globals, clearFirst: !freshMemoryWasZero };
}

/**
 * Bring a fresh instance to the captured state. `memory` must be the instance's (imported) memory,
 * untouched so far except by instantiation (active data segments are cleared when `clearFirst`); it is grown to the captured size if needed, which
 * fails (RangeError) when the captured size exceeds the memory's maximum.
 */
export function restoreSnapshot(
  snapshot: MemorySnapshot,
  memory: WebAssembly.Memory,
  instance: WebAssembly.Instance,
): void {
  const current = memory.buffer.byteLength / WASM_PAGE_BYTES;
  if (snapshot.pages > current) memory.grow(snapshot.pages - current);
  const bytes = new Uint8Array(memory.buffer);
  if (snapshot.clearFirst) bytes.fill(0);
  let i = 0;
  // Copy runs of consecutive pages in one call each.
  while (i < snapshot.pageIndexes.length) {
    let j = i;
    while (
      j + 1 < snapshot.pageIndexes.length &&
      snapshot.pageIndexes[j + 1] === (snapshot.pageIndexes[j] as number) + 1
    )
      j++;
    const first = snapshot.pageIndexes[i] as number;
    bytes.set(snapshot.data.subarray(i * WASM_PAGE_BYTES, (j + 1) * WASM_PAGE_BYTES), first * WASM_PAGE_BYTES);
    i = j + 1;
  }
  setGlobals(snapshot, instance);
}

/**
 * Bring a new instance on a memory that another instance used to exactly the captured state: every
 * byte is written, the stored pages with their captured bytes and every other page with zeros, so
 * the result is byte-for-byte what restoreSnapshot gives on a new memory. The memory must be exactly
 * the captured size (one that grew would show the guest a larger memory than a fresh instance has).
 * Cheaper than a new memory because its pages are already mapped: a fresh page costs a page fault
 * and the kernel zeroing it (~1 ms per MiB on the development VM).
 */
export function overwriteWithSnapshot(
  snapshot: MemorySnapshot,
  memory: WebAssembly.Memory,
  instance: WebAssembly.Instance,
): void {
  const bytes = new Uint8Array(memory.buffer);
  if (bytes.byteLength !== snapshot.pages * WASM_PAGE_BYTES) {
    throw new Error("memory snapshot: only a memory of exactly the captured size can be overwritten");
  }
  let next = 0;
  snapshot.pageIndexes.forEach((page, i) => {
    if (page > next) zeroDirtyMemory(memory, next * WASM_PAGE_BYTES, page * WASM_PAGE_BYTES);
    bytes.set(snapshot.data.subarray(i * WASM_PAGE_BYTES, (i + 1) * WASM_PAGE_BYTES), page * WASM_PAGE_BYTES);
    next = page + 1;
  });
  zeroDirtyMemory(memory, next * WASM_PAGE_BYTES, bytes.byteLength);
  setGlobals(snapshot, instance);
}

function setGlobals(snapshot: MemorySnapshot, instance: WebAssembly.Instance): void {
  for (const [name, value] of Object.entries(snapshot.globals)) {
    const g = instance.exports[name];
    if (!(g instanceof WebAssembly.Global)) throw new Error(`export ${name} is not a global`);
    g.value = value;
  }
}

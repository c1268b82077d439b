/**
 * Take a module's active data segments out of instantiation. An instance restored from a memory
 * snapshot never needs them (the snapshot already holds memory as the segments left it, and more),
 * yet the engine would copy them into every new memory (3 MiB for python.wasm) and restore would
 * then have to zero all of memory first, committing every page. Rewritten as passive segments
 * (same count and indexes, so any memory.init/data.drop stays valid), they are never applied; the
 * host applies them itself, once, to the memory of the interpreter it boots for the snapshot.
 */
import { encodeU32, putSection, Reader, readSections, SectionId, WasmFormatError, writeModule } from "./wasm-binary.js";

export interface DataSegment {
  /** Byte offset in memory 0. */
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export interface DetachedData {
  /** The module with every active segment made passive. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The active segments, in order, to apply to a fresh memory by hand. */
  readonly segments: readonly DataSegment[];
}

const I32_CONST = 0x41;
const END = 0x0b;

/** Signed LEB128 of at most 32 bits. */
function readI32(r: Reader): number {
  let result = 0;
  let shift = 0;
  let b: number;
  do {
    b = r.byte();
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80 && shift < 35);
  if (b & 0x80) throw new WasmFormatError("i32 LEB128 too long");
  return shift < 32 && b & 0x40 ? result | (~0 << shift) : result;
}

/** The offset of an active segment: only `i32.const n; end` is supported (what wasm-ld emits). */
function readOffset(r: Reader): number {
  if (r.byte() !== I32_CONST) throw new WasmFormatError("data segment offset is not an i32.const");
  const value = readI32(r) >>> 0;
  if (r.byte() !== END) throw new WasmFormatError("data segment offset expression too long");
  return value;
}

export function detachActiveData(module: Uint8Array): DetachedData {
  const sections = readSections(module);
  const data = sections.find((s) => s.id === SectionId.data);
  if (!data) return { bytes: module.slice(), segments: [] };
  const r = new Reader(data.content);
  const count = r.u32();
  const out: number[] = [...encodeU32(count)];
  const chunks: Uint8Array[] = [];
  const segments: DataSegment[] = [];
  const flush = (): void => {
    chunks.push(Uint8Array.from(out));
    out.length = 0;
  };
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    if (flags === 1) {
      const bytes = r.take(r.u32());
      out.push(1, ...encodeU32(bytes.byteLength));
      flush();
      chunks.push(bytes);
      continue;
    }
    if (flags === 2 && r.u32() !== 0) throw new WasmFormatError("data segment for a memory other than 0");
    if (flags !== 0 && flags !== 2) throw new WasmFormatError(`unknown data segment flags ${flags}`);
    const offset = readOffset(r);
    const bytes = r.take(r.u32());
    segments.push({ offset, bytes });
    out.push(1, ...encodeU32(bytes.byteLength));
    flush();
    chunks.push(bytes);
  }
  if (!r.done) throw new WasmFormatError("trailing bytes in the data section");
  const content = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    content.set(c, at);
    at += c.byteLength;
  }
  return { bytes: writeModule(putSection(sections, { id: SectionId.data, content })), segments };
}

/** Write the segments into `memory` as instantiation would have. */
export function applySegments(memory: WebAssembly.Memory, segments: readonly DataSegment[]): void {
  const bytes = new Uint8Array(memory.buffer);
  for (const s of segments) {
    if (s.offset + s.bytes.byteLength > bytes.byteLength) throw new RangeError("data segment out of bounds");
    bytes.set(s.bytes, s.offset);
  }
}

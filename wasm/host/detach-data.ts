/**
 * Take a module's active data segments out of instantiation. An instance restored from a memory
 * snapshot never needs them (the snapshot already holds memory as the segments left it, and more),
 * yet the engine would copy them into every new memory (3 MiB for python.wasm) and restore would
 * then have to zero all of memory first, committing every page. The host applies them itself, once,
 * to the memory of the interpreter it boots for the snapshot.
 *
 * Each active segment becomes an empty passive segment (same count and indexes, so the data count
 * section and any memory.init/data.drop stay valid). That is exactly the state the original module
 * is in once instantiated: instantiation applies an active segment and then drops it, and a dropped
 * segment behaves as an empty one (memory.init of 0 bytes succeeds, of more traps; data.drop does
 * nothing). So code running after the snapshot sees the same segments it would have seen, and the
 * module loses the segments' bytes (4.6 MiB of ruby.wasm's 17 MB), which no longer have to be
 * copied, sent to the service, compiled and kept by the engine. Passive segments keep their bytes.
 */
import { encodeU32, putSection, readSections, SectionId, WasmFormatError, writeModule } from "./wasm-binary.js";

export interface DataSegment {
  /** Byte offset in memory 0. */
  readonly offset: number;
  /** A view into the module given to detachActiveData (not a copy): do not modify it. */
  readonly bytes: Uint8Array;
}

export interface DetachedData {
  /** The module with every active segment made an empty passive segment. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The active segments, in order, to apply to a fresh memory by hand. */
  readonly segments: readonly DataSegment[];
}

const I32_CONST = 0x41;
const END = 0x0b;
const PASSIVE = 1;

export function detachActiveData(module: Uint8Array): DetachedData {
  const sections = readSections(module);
  const data = sections.find((s) => s.id === SectionId.data);
  if (!data) return { bytes: module.slice(), segments: [] };
  const detached = detachDataSection(data.content);
  return {
    bytes: writeModule(putSection(sections, { id: SectionId.data, content: detached.content })),
    segments: detached.segments,
  };
}

/**
 * detachActiveData on the data section's payload alone: the new payload and the detached segments
 * (views into `source`). Runs once per process on ruby.wasm's 10,000 segments, so while V8
 * still interprets it: LEB128 read by local closures (no Reader), only the detached segments get an
 * object, views made with the constructor.
 * A read past the end yields undefined, which ends the number; the bounds check after each segment
 * then rejects it.
 */
export function detachDataSection(source: Uint8Array): { content: Uint8Array; segments: DataSegment[] } {
  const end = source.byteLength;
  let at = 0;
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = source[at++] as number;
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80 && shift < 35);
    if (b & 0x80 || result > 0xffff_ffff) throw new WasmFormatError("u32 LEB128 too long in the data section");
    return result;
  };
  /** Signed LEB128 of at most 32 bits (the i32.const of an offset). */
  const i32 = (): number => {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = source[at++] as number;
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && shift < 35);
    if (b & 0x80) throw new WasmFormatError("i32 LEB128 too long in the data section");
    return shift < 32 && b & 0x40 ? result | (~0 << shift) : result;
  };
  const count = u32();
  const segments: DataSegment[] = [];
  // The new payload is never longer than the old one (a detached segment shrinks to 2 bytes), and
  // pages of it never written are never committed.
  const content = new Uint8Array(end + 5);
  content.set(encodeU32(count));
  let to = encodeU32(count).length;
  for (let i = 0; i < count; i++) {
    const flags = u32();
    content[to++] = PASSIVE;
    if (flags === PASSIVE) {
      const start = at;
      const length = u32(); // read before adding: `at += u32()` would add to the old `at`
      at += length;
      if (at > end) throw new WasmFormatError("unexpected end of the data section");
      content.set(source.subarray(start, at), to);
      to += at - start;
      continue;
    }
    if (flags === 2 && u32() !== 0) throw new WasmFormatError("data segment for a memory other than 0");
    if (flags !== 0 && flags !== 2) throw new WasmFormatError(`unknown data segment flags ${flags}`);
    if (source[at++] !== I32_CONST) throw new WasmFormatError("data segment offset is not an i32.const");
    const offset = i32() >>> 0;
    if (source[at++] !== END) throw new WasmFormatError("data segment offset expression too long");
    const length = u32();
    if (at + length > end) throw new WasmFormatError("unexpected end of the data section");
    segments.push({ offset, bytes: new Uint8Array(source.buffer, source.byteOffset + at, length) });
    at += length;
    content[to++] = 0;
  }
  if (at !== end) throw new WasmFormatError("trailing bytes in the data section");
  return { content: content.subarray(0, to), segments };
}

/** Write the segments into `memory` as instantiation would have. */
export function applySegments(memory: WebAssembly.Memory, segments: readonly DataSegment[]): void {
  const bytes = new Uint8Array(memory.buffer);
  for (const s of segments) {
    if (s.offset + s.bytes.byteLength > bytes.byteLength) throw new RangeError("data segment out of bounds");
    bytes.set(s.bytes, s.offset);
  }
}

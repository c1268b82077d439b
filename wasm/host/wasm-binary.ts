/**
 * Just enough of the WebAssembly binary format to rewrite a module's import, memory, global and
 * export sections: LEB128, names, limits and the section list. Everything else is copied verbatim.
 * Spec: https://webassembly.github.io/spec/core/binary/
 */

export const WASM_HEADER = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);

export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

/** Canonical order of the non-custom sections (tag sits between memory and global). */
const SECTION_ORDER: readonly number[] = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

export const ExternalKind = { function: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;

export class WasmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WasmFormatError";
  }
}

/** A cursor over a byte array; every read checks bounds. */
export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public offset = 0,
    readonly end = bytes.byteLength,
  ) {}

  get done(): boolean {
    return this.offset >= this.end;
  }

  byte(): number {
    if (this.offset >= this.end) throw new WasmFormatError(`unexpected end at ${this.offset}`);
    return this.bytes[this.offset++] as number;
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffff_ffff) throw new WasmFormatError(`u32 out of range at ${this.offset}`);
        return result;
      }
    }
    throw new WasmFormatError(`u32 LEB128 too long at ${this.offset}`);
  }

  /** Skip a signed or unsigned LEB128 of any width. */
  skipLeb(): void {
    while ((this.byte() & 0x80) !== 0) {
      /* continue */
    }
  }

  take(length: number): Uint8Array {
    if (this.offset + length > this.end) throw new WasmFormatError(`unexpected end at ${this.offset}`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  name(): string {
    return new TextDecoder("utf-8", { fatal: true }).decode(this.take(this.u32()));
  }
}

export function encodeU32(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new WasmFormatError(`cannot encode ${value} as u32`);
  }
  const out: number[] = [];
  let rest = value;
  do {
    let b = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest !== 0) b |= 0x80;
    out.push(b);
  } while (rest !== 0);
  return out;
}

export function encodeName(name: string): number[] {
  const utf8 = new TextEncoder().encode(name);
  return [...encodeU32(utf8.byteLength), ...utf8];
}

export interface Limits {
  readonly min: number;
  readonly max: number | null;
  readonly shared: boolean;
}

export function readLimits(r: Reader): Limits {
  const flags = r.byte();
  if (flags & 0x04) throw new WasmFormatError("64-bit memories are not supported");
  if (flags > 0x03) throw new WasmFormatError(`unknown limits flags 0x${flags.toString(16)}`);
  const min = r.u32();
  const max = flags & 0x01 ? r.u32() : null;
  return { min, max, shared: (flags & 0x02) !== 0 };
}

export function encodeLimits(limits: Limits): number[] {
  const flags = (limits.max === null ? 0 : 0x01) | (limits.shared ? 0x02 : 0);
  return [flags, ...encodeU32(limits.min), ...(limits.max === null ? [] : encodeU32(limits.max))];
}

export interface Section {
  readonly id: number;
  /** The section's payload (without id and size). A view into the original bytes. */
  readonly content: Uint8Array;
}

/** Split a module into its sections, checking the header and every section size. */
export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.byteLength < 8 || !WASM_HEADER.every((b, i) => bytes[i] === b)) {
    throw new WasmFormatError("not a WebAssembly 1.0 binary module");
  }
  const r = new Reader(bytes, 8);
  const sections: Section[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    sections.push({ id, content: r.take(size) });
  }
  return sections;
}

/** Reassemble a module from sections (in the order given). */
export function writeModule(sections: readonly Section[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [WASM_HEADER];
  let total = WASM_HEADER.byteLength;
  for (const s of sections) {
    const head = Uint8Array.from([s.id, ...encodeU32(s.content.byteLength)]);
    parts.push(head, s.content);
    total += head.byteLength + s.content.byteLength;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Insert or replace a non-custom section, keeping the canonical section order. */
export function putSection(sections: readonly Section[], section: Section): Section[] {
  const out = sections.filter((s) => s.id !== section.id);
  const rank = SECTION_ORDER.indexOf(section.id);
  if (rank < 0) throw new WasmFormatError(`cannot place section ${section.id}`);
  let insertAt = out.length;
  for (let i = 0; i < out.length; i++) {
    const s = out[i] as Section;
    if (s.id !== SectionId.custom && SECTION_ORDER.indexOf(s.id) > rank) {
      insertAt = i;
      break;
    }
  }
  out.splice(insertAt, 0, section);
  return out;
}

/** Build a vector payload: count followed by the already-encoded entries. */
export function encodeVector(entries: readonly (readonly number[] | Uint8Array)[]): Uint8Array {
  const out: number[] = encodeU32(entries.length);
  for (const e of entries) for (const b of e) out.push(b);
  return Uint8Array.from(out);
}

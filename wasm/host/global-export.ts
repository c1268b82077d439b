/**
 * Export every mutable global a module defines (as `<prefix><index>`), so the host can read and
 * restore them. Together with a copy of linear memory this is the complete state of an instance
 * of a module whose tables are fixed (see memory-snapshot.ts).
 */
import {
  ExternalKind,
  encodeName,
  encodeU32,
  encodeVector,
  putSection,
  Reader,
  readSections,
  type Section,
  SectionId,
  WasmFormatError,
  writeModule,
} from "./wasm-binary.js";

export const GLOBAL_EXPORT_PREFIX = "__sandbox_global_";

export interface GlobalExportResult {
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Names of the added exports, in global index order. */
  readonly exportNames: readonly string[];
}

/** Skip a constant expression (the init of a global), up to and including its `end`. */
function skipConstExpr(r: Reader): void {
  for (;;) {
    const op = r.byte();
    switch (op) {
      case 0x0b:
        return;
      case 0x41: // i32.const
      case 0x42: // i64.const
        r.skipLeb();
        break;
      case 0x43: // f32.const
        r.take(4);
        break;
      case 0x44: // f64.const
        r.take(8);
        break;
      case 0x23: // global.get
      case 0xd2: // ref.func
        r.u32();
        break;
      case 0xd0: // ref.null
        r.byte();
        break;
      case 0x6a: // i32.add, sub, mul (extended constant expressions)
      case 0x6b:
      case 0x6c:
      case 0x7c: // i64.add, sub, mul
      case 0x7d:
      case 0x7e:
        break;
      default:
        throw new WasmFormatError(`unsupported opcode 0x${op.toString(16)} in a global initialiser`);
    }
  }
}

function countImportedGlobals(section: Section | undefined): number {
  if (!section) return 0;
  const r = new Reader(section.content);
  const count = r.u32();
  let globals = 0;
  for (let i = 0; i < count; i++) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === ExternalKind.function) r.u32();
    else if (kind === ExternalKind.table) {
      r.byte();
      const flags = r.byte();
      r.u32();
      if (flags & 1) r.u32();
    } else if (kind === ExternalKind.memory) {
      const flags = r.byte();
      r.u32();
      if (flags & 1) r.u32();
    } else if (kind === ExternalKind.global) {
      r.byte();
      r.byte();
      globals++;
    } else if (kind === ExternalKind.tag) {
      r.byte();
      r.u32();
    } else throw new WasmFormatError(`unknown import kind ${kind}`);
  }
  return globals;
}

export function exportMutableGlobals(bytes: Uint8Array, prefix = GLOBAL_EXPORT_PREFIX): GlobalExportResult {
  const sections = readSections(bytes);
  const importedGlobals = countImportedGlobals(sections.find((s) => s.id === SectionId.import));
  if (importedGlobals > 0) throw new WasmFormatError("modules that import globals are not supported");

  const mutable: number[] = [];
  const globalSection = sections.find((s) => s.id === SectionId.global);
  if (globalSection) {
    const r = new Reader(globalSection.content);
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      r.byte(); // value type
      if (r.byte() === 1) mutable.push(i);
      skipConstExpr(r);
    }
  }

  const exportSection = sections.find((s) => s.id === SectionId.export);
  const existing: Uint8Array[] = [];
  if (exportSection) {
    const r = new Reader(exportSection.content);
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      const start = r.offset;
      r.name();
      r.byte();
      r.u32();
      existing.push(r.bytes.subarray(start, r.offset));
    }
  }
  const exportNames = mutable.map((index) => `${prefix}${index}`);
  const added = mutable.map((index, i) => [
    ...encodeName(exportNames[i] as string),
    ExternalKind.global,
    ...encodeU32(index),
  ]);
  const out = putSection(sections, { id: SectionId.export, content: encodeVector([...existing, ...added]) });
  return { bytes: writeModule(out), exportNames };
}

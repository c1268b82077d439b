/**
 * Turn a module's defined memory 0 into an imported one (`env`.`memory` by default), keeping its
 * export, so the host hands every instance its own `WebAssembly.Memory({ initial, maximum })`:
 * one compiled module, a different memory cap per execution.
 *
 * Only the import and memory sections change. Imported memories come first in the memory index
 * space, so the new import becomes memory 0 and every `memory.*` instruction, data segment and
 * export that named the defined memory 0 now names the import: no code is rewritten.
 */
import {
  ExternalKind,
  encodeLimits,
  encodeName,
  encodeVector,
  type Limits,
  putSection,
  Reader,
  readLimits,
  readSections,
  type Section,
  SectionId,
  WasmFormatError,
  writeModule,
} from "./wasm-binary.js";

export interface MemoryImportName {
  readonly module: string;
  readonly name: string;
}

export const DEFAULT_MEMORY_IMPORT: MemoryImportName = Object.freeze({ module: "env", name: "memory" });

export interface MemoryImportResult {
  /** The rewritten module (or the input, when memory 0 was already imported). */
  readonly bytes: Uint8Array;
  /** Where the host must supply the memory. */
  readonly memoryImport: MemoryImportName;
  /** Declared minimum of memory 0, in 64 KiB pages: the smallest memory the module accepts. */
  readonly minimumPages: number;
  /** Declared maximum of memory 0 in pages, or null when the module declares none. */
  readonly maximumPages: number | null;
}

interface ImportEntry {
  readonly module: string;
  readonly name: string;
  readonly kind: number;
  /** The whole entry as encoded, copied back verbatim. */
  readonly raw: Uint8Array;
  readonly memory?: Limits;
}

function readImports(section: Section | undefined): ImportEntry[] {
  if (!section) return [];
  const r = new Reader(section.content);
  const count = r.u32();
  const entries: ImportEntry[] = [];
  for (let i = 0; i < count; i++) {
    const start = r.offset;
    const module = r.name();
    const name = r.name();
    const kind = r.byte();
    let memory: Limits | undefined;
    switch (kind) {
      case ExternalKind.function:
        r.u32();
        break;
      case ExternalKind.table:
        r.byte();
        readLimits(r);
        break;
      case ExternalKind.memory:
        memory = readLimits(r);
        break;
      case ExternalKind.global:
        r.byte();
        r.byte();
        break;
      case ExternalKind.tag:
        r.byte();
        r.u32();
        break;
      default:
        throw new WasmFormatError(`unknown import kind ${kind}`);
    }
    entries.push({ module, name, kind, raw: r.bytes.subarray(start, r.offset), ...(memory ? { memory } : {}) });
  }
  if (!r.done) throw new WasmFormatError("trailing bytes in the import section");
  return entries;
}

function readMemories(section: Section | undefined): { limits: Limits; raw: Uint8Array }[] {
  if (!section) return [];
  const r = new Reader(section.content);
  const count = r.u32();
  const out: { limits: Limits; raw: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    const start = r.offset;
    const limits = readLimits(r);
    out.push({ limits, raw: r.bytes.subarray(start, r.offset) });
  }
  if (!r.done) throw new WasmFormatError("trailing bytes in the memory section");
  return out;
}

/** Declared limits of memory 0, whether imported or defined; null when the module has no memory. */
export function readMemoryLimits(bytes: Uint8Array): Limits | null {
  const sections = readSections(bytes);
  const imported = readImports(sections.find((s) => s.id === SectionId.import)).find(
    (e) => e.kind === ExternalKind.memory,
  );
  if (imported?.memory) return imported.memory;
  return readMemories(sections.find((s) => s.id === SectionId.memory))[0]?.limits ?? null;
}

/**
 * Rewrite `bytes` so that memory 0 is imported from `target`. The import declares the module's
 * minimum and no maximum, so any host memory at least that large (with any maximum) is accepted.
 * Throws WasmFormatError for modules it cannot rewrite (no memory, shared or 64-bit memory).
 */
export function importMemory(bytes: Uint8Array, target: MemoryImportName = DEFAULT_MEMORY_IMPORT): MemoryImportResult {
  const sections = readSections(bytes);
  const imports = readImports(sections.find((s) => s.id === SectionId.import));
  const existing = imports.find((e) => e.kind === ExternalKind.memory);
  if (existing?.memory) {
    return {
      bytes,
      memoryImport: { module: existing.module, name: existing.name },
      minimumPages: existing.memory.min,
      maximumPages: existing.memory.max,
    };
  }
  const memories = readMemories(sections.find((s) => s.id === SectionId.memory));
  const first = memories[0];
  if (!first) throw new WasmFormatError("the module defines no memory");
  if (first.limits.shared) throw new WasmFormatError("shared memories are not supported");

  const memoryImport = Uint8Array.from([
    ...encodeName(target.module),
    ...encodeName(target.name),
    ExternalKind.memory,
    ...encodeLimits({ min: first.limits.min, max: null, shared: false }),
  ]);
  let out = putSection(sections, {
    id: SectionId.import,
    content: encodeVector([...imports.map((e) => e.raw), memoryImport]),
  });
  const rest = memories.slice(1);
  out =
    rest.length === 0
      ? out.filter((s) => s.id !== SectionId.memory)
      : putSection(out, { id: SectionId.memory, content: encodeVector(rest.map((m) => m.raw)) });
  return {
    bytes: writeModule(out),
    memoryImport: target,
    minimumPages: first.limits.min,
    maximumPages: first.limits.max,
  };
}

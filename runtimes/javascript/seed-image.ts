/**
 * The JavaScript seed's image: what a clone starts from (instance-seed.ts), and its plain form.
 *
 * `load()` builds the image once, in the loader thread, and posts it to every worker in the plain
 * form (structured-cloneable; the memory's bytes in one SharedArrayBuffer that every worker reads).
 * A worker takes it back through `seedImageFromPlain`, which refuses anything that is not exactly
 * what `seedImageToPlain` writes for this build: a field missing or extra, a pointer outside the
 * memory, another format or QuickJS version. Whether the image fits this worker's engine (the
 * runtime's address, the host functions' ids) is checked by every clone (instance-seed.ts).
 */
import { QUICKJS_VERSION } from "./instance.js";
import { MemoryImage, type PlainMemoryImage } from "./memory-image.js";

/** What clones start from: the seed's memory and the addresses the host refers to inside it. */
export interface SeedImage {
  /** The seed's memory; a clone's memory starts exactly as large (emscripten's heap may reach its end). */
  readonly memory: MemoryImage;
  readonly rt: number;
  readonly ctx: number;
  readonly hostFunctionIds: readonly number[];
  /** JSValue pointers of the handles the host keeps. */
  readonly start: number;
  readonly timerNext: number;
  readonly timerFire: number;
  readonly exitCode: number;
}

/** Bumped whenever the plain form's meaning changes. */
const SEED_IMAGE_FORMAT = 1;

/** The seed's pointers, by name (the plain form carries exactly these, each inside the memory). */
const POINTERS = ["rt", "ctx", "start", "timerNext", "timerFire", "exitCode"] as const;

/** More host functions than the bridge could ever install means a corrupted form. */
const MAX_HOST_FUNCTIONS = 256;

/** The image as structured-cloneable data: its memory in plain form, plus format and engine version. */
export interface PlainSeedImage extends Omit<SeedImage, "memory"> {
  readonly format: number;
  readonly quickjsVersion: string;
  readonly memory: PlainMemoryImage;
}

export function seedImageToPlain(image: SeedImage): PlainSeedImage {
  return {
    format: SEED_IMAGE_FORMAT,
    quickjsVersion: QUICKJS_VERSION,
    memory: image.memory.toPlain(),
    rt: image.rt,
    ctx: image.ctx,
    hostFunctionIds: [...image.hostFunctionIds],
    start: image.start,
    timerNext: image.timerNext,
    timerFire: image.timerFire,
    exitCode: image.exitCode,
  };
}

const EXPECTED_KEYS = ["format", "quickjsVersion", "memory", "hostFunctionIds", ...POINTERS].sort().join(",");

/** Validates a plain form strictly (see the file comment) and rebuilds the image. */
export function seedImageFromPlain(value: unknown): SeedImage {
  const fail = (why: string): never => {
    throw new Error(`javascript runtime: invalid seed image: ${why}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("not an object");
  const keys = Object.keys(value).sort().join(",");
  if (keys !== EXPECTED_KEYS) return fail(`unexpected fields (${keys})`);
  const plain = value as Record<keyof PlainSeedImage, unknown>;
  if (plain.format !== SEED_IMAGE_FORMAT) return fail(`format ${String(plain.format)}, expected ${SEED_IMAGE_FORMAT}`);
  if (plain.quickjsVersion !== QUICKJS_VERSION) {
    return fail(`built for QuickJS ${String(plain.quickjsVersion)}, this is ${QUICKJS_VERSION}`);
  }
  const memory = MemoryImage.fromPlain(plain.memory);
  const pointers = {} as Record<(typeof POINTERS)[number], number>;
  for (const name of POINTERS) {
    const pointer = plain[name];
    if (typeof pointer !== "number" || !Number.isInteger(pointer) || pointer <= 0 || pointer >= memory.memoryBytes) {
      return fail(`${name} is not a pointer inside the seed's memory`);
    }
    pointers[name] = pointer;
  }
  const ids = plain.hostFunctionIds;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_HOST_FUNCTIONS) {
    return fail("hostFunctionIds is not a list of host function ids");
  }
  const hostFunctionIds = ids.map((id: unknown) => {
    if (typeof id !== "number" || !Number.isInteger(id) || id < -(2 ** 31) || id >= 2 ** 31) {
      return fail("a host function id is not a 32-bit integer");
    }
    return id;
  });
  return { memory, ...pointers, hostFunctionIds: Object.freeze(hostFunctionIds) };
}

/**
 * How a boot child hands its large byte arrays (snapshots, module bytes: 20-50 MB) to the parent:
 * through a file instead of the IPC channel. Sent over IPC with `advanced` serialization, a reply of
 * that size arrives in 64 KiB chunks that Node concatenates and then deserializes, and
 * shareLargeBytes then copies each array into shared memory: three copies, ~100 ms of the loader's
 * thread per boot on the critical path of a cold start (measured: Python's reply 97 ms, Ruby's
 * 110 ms between the child sending it and the loader having it). Here the child writes each large
 * array once into a file the parent named, the IPC reply carries only where each one lies, and the
 * parent reads each straight into its own SharedArrayBuffer (or ArrayBuffer): one write and one read.
 *
 * The file lies in a directory the parent created for this boot with mode 0700 (mkdtemp) and
 * removes after the reply; the child is our own boot-entry. A marker that points outside the file,
 * or names a type we do not construct, fails the boot.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";

/** Byte arrays at least this large go through the file; smaller ones stay in the IPC reply. */
export const SPILL_MIN_BYTES = 64 * 1024;

/** Views the parent rebuilds, by constructor name; nothing else is constructed from a marker. */
const VIEW_TYPES = {
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigUint64Array,
  BigInt64Array,
} as const;

type ViewType = keyof typeof VIEW_TYPES;
type TypedArray = InstanceType<(typeof VIEW_TYPES)[ViewType]>;

/** What stands in the IPC reply for one array written to the file. */
export interface SpilledBytes {
  readonly bootSpill: { readonly type: ViewType; readonly offset: number; readonly byteLength: number };
}

/** Nesting deeper than this is passed as it is (boot values are a few levels of plain data). */
const MAX_DEPTH = 8;
/** Each array starts at a multiple of this in the file. */
const ALIGN = 8;

function isSpilled(value: unknown): value is SpilledBytes {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "bootSpill";
}

function viewType(value: unknown): ViewType | undefined {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return undefined;
  const name = value.constructor.name;
  return Object.hasOwn(VIEW_TYPES, name) && VIEW_TYPES[name as ViewType] === value.constructor
    ? (name as ViewType)
    : undefined;
}

/**
 * Child side: writes every typed array of `value` of at least SPILL_MIN_BYTES to a new file at
 * `path` (created exclusively, mode 0600) and returns `value` with a marker in place of each. Arrays
 * and objects are walked (their own enumerable properties: what IPC would send of them), except Map,
 * Set, Date and RegExp, which are returned as they are.
 */
export function spillLargeBytes(value: unknown, path: string): unknown {
  const fd = openSync(path, "wx", 0o600);
  let offset = 0;
  const write = (view: TypedArray, type: ViewType): SpilledBytes => {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    offset = Math.ceil(offset / ALIGN) * ALIGN;
    const start = offset;
    for (let done = 0; done < bytes.byteLength; ) {
      done += writeSync(fd, bytes, done, bytes.byteLength - done, start + done);
    }
    offset += bytes.byteLength;
    return { bootSpill: { type, offset: start, byteLength: bytes.byteLength } };
  };
  const walk = (item: unknown, depth: number): unknown => {
    const type = viewType(item);
    if (type) {
      const view = item as TypedArray;
      return view.byteLength >= SPILL_MIN_BYTES ? write(view, type) : view;
    }
    if (depth > MAX_DEPTH || item === null || typeof item !== "object" || ArrayBuffer.isView(item)) return item;
    if (Array.isArray(item)) return item.map((entry) => walk(entry, depth + 1));
    if (item instanceof Map || item instanceof Set || item instanceof Date || item instanceof RegExp) return item;
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(item)) out[key] = walk(entry, depth + 1);
    return out;
  };
  try {
    return walk(value, 0);
  } finally {
    closeSync(fd);
  }
}

/**
 * Parent side: `value` with every marker replaced by a view over a buffer of its own (shared: a
 * SharedArrayBuffer, posted to workers by reference; otherwise an ArrayBuffer) read from `path`.
 * Throws if a marker lies outside the file or its length does not fit its type.
 */
export function readSpilledBytes(value: unknown, path: string, shared: boolean): unknown {
  const markers: SpilledBytes[] = [];
  const find = (item: unknown, depth: number): void => {
    if (isSpilled(item)) markers.push(item);
    else if (depth <= MAX_DEPTH && item !== null && typeof item === "object" && !ArrayBuffer.isView(item)) {
      for (const entry of Object.values(item)) find(entry, depth + 1);
    }
  };
  find(value, 0);
  if (markers.length === 0) return value;
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const read = ({ bootSpill }: SpilledBytes): TypedArray => {
      const { type, offset, byteLength } = bootSpill;
      const Ctor = Object.hasOwn(VIEW_TYPES, type) ? VIEW_TYPES[type] : undefined;
      if (
        !Ctor ||
        !Number.isSafeInteger(offset) ||
        !Number.isSafeInteger(byteLength) ||
        offset < 0 ||
        byteLength < 0 ||
        offset + byteLength > size ||
        byteLength % Ctor.BYTES_PER_ELEMENT !== 0
      ) {
        throw new Error(`the boot's reply names bytes its file does not hold: ${JSON.stringify(bootSpill)}`);
      }
      const buffer = shared ? new SharedArrayBuffer(byteLength) : new ArrayBuffer(byteLength);
      const bytes = new Uint8Array(buffer);
      for (let done = 0; done < byteLength; ) {
        const n = readSync(fd, bytes, done, byteLength - done, offset + done);
        if (n === 0) throw new Error("the boot's reply file ended early");
        done += n;
      }
      return new (Ctor as new (buffer: ArrayBufferLike) => TypedArray)(buffer);
    };
    const rebuild = (item: unknown, depth: number): unknown => {
      if (isSpilled(item)) return read(item);
      if (depth > MAX_DEPTH || item === null || typeof item !== "object" || ArrayBuffer.isView(item)) return item;
      if (Array.isArray(item)) return item.map((entry) => rebuild(entry, depth + 1));
      const out: Record<string, unknown> = {};
      for (const [key, entry] of Object.entries(item)) out[key] = rebuild(entry, depth + 1);
      return out;
    };
    return rebuild(value, 0);
  } finally {
    closeSync(fd);
  }
}

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

/**
 * Byte arrays at least this large go through the file; smaller ones stay in the IPC reply. The same
 * bound decides which arrays shareLargeBytes (boot-process.ts) moves into shared memory.
 */
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

/** What a `replace` of mapBootValue returns for a value that is no leaf: walk into it. */
export const WALK_INTO: unique symbol = Symbol("walk into");

/**
 * `value` with its leaves replaced: `replace` sees every value first and returns its replacement,
 * or WALK_INTO. Arrays and other objects (their own enumerable properties: what structured clone
 * sends of them) are then walked, down to MAX_DEPTH levels; typed arrays and DataViews, Map, Set,
 * Date and RegExp are kept as they are. A container none of whose entries changed is returned
 * itself, not a copy. Boot values (boot-process.ts) are a few levels of plain data.
 */
export function mapBootValue(value: unknown, replace: (item: unknown) => unknown, depth = 0): unknown {
  const replaced = replace(value);
  if (replaced !== WALK_INTO) return replaced;
  if (depth > MAX_DEPTH || value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  if (value instanceof Map || value instanceof Set || value instanceof Date || value instanceof RegExp) return value;
  if (Array.isArray(value)) {
    const out = value.map((entry) => mapBootValue(entry, replace, depth + 1));
    return out.some((entry, i) => entry !== value[i]) ? out : value;
  }
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    out[key] = mapBootValue(entry, replace, depth + 1);
    changed ||= out[key] !== entry;
  }
  return changed ? out : value;
}

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
 * `path` (created exclusively, mode 0600) and returns `value` with a marker in place of each
 * (mapBootValue walks it).
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
  try {
    return mapBootValue(value, (item) => {
      const type = viewType(item);
      if (!type) return WALK_INTO;
      const view = item as TypedArray;
      return view.byteLength >= SPILL_MIN_BYTES ? write(view, type) : view;
    });
  } finally {
    closeSync(fd);
  }
}

/**
 * Parent side: `value` with every marker replaced by a view over a buffer of its own (shared: a
 * SharedArrayBuffer, posted to workers by reference; otherwise an ArrayBuffer) read from `path`.
 * Throws if a marker lies outside the file or its length does not fit its type. A value without
 * markers is returned as it is; the file is opened only for the first marker.
 */
export function readSpilledBytes(value: unknown, path: string, shared: boolean): unknown {
  let file: { readonly fd: number; readonly size: number } | undefined;
  const open = () => {
    if (file) return file;
    const fd = openSync(path, "r");
    file = { fd, size: fstatSync(fd).size };
    return file;
  };
  try {
    const read = ({ bootSpill }: SpilledBytes): TypedArray => {
      const { fd, size } = open();
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
    return mapBootValue(value, (item) => (isSpilled(item) ? read(item) : WALK_INTO));
  } finally {
    if (file) closeSync(file.fd);
  }
}

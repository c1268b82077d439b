/**
 * Stand-in for `node:zlib` inside the just-bash bundle (esbuild aliases the import to this file).
 * just-bash's gzip/gunzip/zcat and rg's decompression use only gzipSync, gunzipSync and a few
 * constants; these are pure JavaScript (fflate) so they run inside QuickJS with no host access.
 * `maxOutputLength` is honoured while inflating, so a decompression bomb stops at the limit instead
 * of filling the heap.
 */
import { gzipSync as fflateGzipSync, Gunzip } from "fflate";

export const constants = Object.freeze({
  Z_NO_COMPRESSION: 0,
  Z_BEST_SPEED: 1,
  Z_BEST_COMPRESSION: 9,
  Z_DEFAULT_COMPRESSION: -1,
});

type Level = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

interface ZlibOptions {
  readonly level?: number;
  readonly maxOutputLength?: number;
}

class BufferTooLargeError extends RangeError {
  readonly code = "ERR_BUFFER_TOO_LARGE";
  constructor(limit: number) {
    super(`Cannot create a Buffer larger than ${limit} bytes`);
  }
}

function toLevel(level: number | undefined): Level {
  if (level === undefined || level < 0 || level > 9 || !Number.isInteger(level)) return 6;
  return level as Level;
}

export function gzipSync(data: Uint8Array, options: ZlibOptions = {}): Uint8Array {
  const out = fflateGzipSync(data, { level: toLevel(options.level), mtime: 0 });
  const limit = options.maxOutputLength;
  if (limit !== undefined && out.byteLength > limit) throw new BufferTooLargeError(limit);
  return out;
}

export function gunzipSync(data: Uint8Array, options: ZlibOptions = {}): Uint8Array {
  const limit = options.maxOutputLength ?? Number.MAX_SAFE_INTEGER;
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new Gunzip((chunk) => {
    total += chunk.byteLength;
    if (total > limit) throw new BufferTooLargeError(limit);
    chunks.push(chunk);
  });
  try {
    stream.push(data, true);
  } catch (error) {
    if (error instanceof BufferTooLargeError) throw error;
    throw new Error(`incorrect header check or corrupt data: ${(error as Error).message}`);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export default { constants, gzipSync, gunzipSync };

import type { FileHandle } from "node:fs/promises";

/**
 * The first `size` bytes of an open file, in one SharedArrayBuffer: posted to worker threads, it is
 * passed by reference, so every worker reads the one copy.
 */
export async function readShared(handle: FileHandle, size: number): Promise<Buffer> {
  const bytes = Buffer.from(new SharedArrayBuffer(size));
  let offset = 0;
  while (offset < size) {
    const { bytesRead } = await handle.read(bytes, offset, size - offset, offset);
    if (bytesRead === 0) throw new Error(`the file ended after ${offset} of ${size} bytes`);
    offset += bytesRead;
  }
  return bytes;
}

/**
 * Hand-assembled WebAssembly modules for the host's unit tests (no toolchain needed).
 */

/** A section: id, LEB128 size (all test sections are < 128 bytes), payload. */
function section(id: number, payload: number[]): number[] {
  if (payload.length >= 128) throw new Error("test section too large");
  return [id, payload.length, ...payload];
}

function name(text: string): number[] {
  return [text.length, ...new TextEncoder().encode(text)];
}

/**
 * A module that defines memory 0 (min 1 page, max `maxPages` or none), exports it as "memory", and
 * exports:
 * - "size" () -> i32: memory.size
 * - "grow" (i32) -> i32: memory.grow
 * - "bump" () -> i32: increments mutable global 0 (initially 7) and returns it
 * - "peek" (i32) -> i32: i32.load8_u at the address
 * - "counter": global 0
 * and has an active data segment "hi" at address 16.
 */
export function tinyModule(maxPages: number | null = 4): Uint8Array<ArrayBuffer> {
  const types = section(1, [3, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 0, 0]);
  const functions = section(3, [4, 0, 1, 0, 1]);
  const memory = section(5, maxPages === null ? [1, 0x00, 1] : [1, 0x01, 1, maxPages]);
  const globals = section(6, [1, 0x7f, 1, 0x41, 7, 0x0b]);
  const exports = section(7, [
    6,
    ...name("memory"),
    2,
    0,
    ...name("size"),
    0,
    0,
    ...name("grow"),
    0,
    1,
    ...name("bump"),
    0,
    2,
    ...name("peek"),
    0,
    3,
    ...name("counter"),
    3,
    0,
  ]);
  const bodies = [
    [0, 0x3f, 0x00, 0x0b], // memory.size
    [0, 0x20, 0, 0x40, 0x00, 0x0b], // local.get 0; memory.grow
    [0, 0x23, 0, 0x41, 1, 0x6a, 0x24, 0, 0x23, 0, 0x0b], // global.get 0; i32.const 1; add; global.set 0; global.get 0
    [0, 0x20, 0, 0x2d, 0, 0, 0x0b], // local.get 0; i32.load8_u
  ];
  const code = section(10, [bodies.length, ...bodies.flatMap((b) => [b.length, ...b])]);
  const data = section(11, [1, 0, 0x41, 16, 0x0b, 2, 0x68, 0x69]);
  return Uint8Array.from([
    0,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...types,
    ...functions,
    ...memory,
    ...globals,
    ...exports,
    ...code,
    ...data,
  ]);
}

export interface TinyExports {
  memory: WebAssembly.Memory;
  size(): number;
  grow(pages: number): number;
  bump(): number;
  peek(address: number): number;
  counter: WebAssembly.Global;
}

export function tinyExports(instance: WebAssembly.Instance): TinyExports {
  return instance.exports as unknown as TinyExports;
}

import { wasi } from "@bjorn3/browser_wasi_shim";
import { describe, expect, it } from "vitest";
import type { GuestHttpReply, GuestHttpRequest } from "../../src/sandbox/host-call.js";
import type { OutputSink } from "../../src/sandbox/wasm/runtime.js";
import { GuestLimitError } from "./guest-limit.js";
import { HTTP_DEVICE_DIR, HTTP_DEVICE_NAME, httpDevicePreopen } from "./http-device.js";
import { MAX_REQUEST_HEAD_BYTES, parseReplyFrame, serializeRequestFrame } from "./http-frame.js";
import { createWasiHost } from "./wasi-host.js";
import { createGuestFilesystem } from "./wasi-workspace.js";

type Fn = (...args: (number | bigint)[]) => number;
const discard: OutputSink = { write: () => undefined, length: 0 };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
/** fds 3-5 are /, /workspace and /tmp; the device's directory comes next. */
const DEVICE_DIR_FD = 6;
const RELATIVE = HTTP_DEVICE_NAME;

const OK: GuestHttpReply = {
  ok: true,
  status: 200,
  statusText: "OK",
  headers: [["content-type", "application/octet-stream"]],
  body: new Uint8Array([0, 1, 2, 0xff, 0x0a]),
  url: "https://example.com/",
  redirected: false,
};

/** A WASI host over a guest tree holding the device, driven through its imports as a guest would. */
function setup(answer: (request: GuestHttpRequest) => GuestHttpReply = () => OK) {
  const calls: GuestHttpRequest[] = [];
  const http = (request: GuestHttpRequest): GuestHttpReply => {
    calls.push(request);
    return answer(request);
  };
  const fs = createGuestFilesystem({ files: [], maxFilesystemBytes: 1 << 20 });
  const host = createWasiHost({
    args: [],
    env: {},
    stdin: "",
    preopens: [...fs.preopens, httpDevicePreopen(http)],
    context: { stdout: discard, stderr: discard, deadline: Date.now() + 10_000, cancelled: () => false },
  });
  const memory = new WebAssembly.Memory({ initial: 200 });
  host.bind({ exports: { memory } } as unknown as WebAssembly.Instance);
  const view = (): DataView => new DataView(memory.buffer);
  const bytes = (): Uint8Array => new Uint8Array(memory.buffer);
  const call = (name: string, ...args: (number | bigint)[]): number => (host.imports[name] as unknown as Fn)(...args);
  const SCRATCH = 1024;
  const DATA = 64 * 1024;

  const open = (path = RELATIVE, oflags = 0): { errno: number; fd: number } => {
    const p = utf8(path);
    bytes().set(p, SCRATCH);
    const rights = BigInt(wasi.RIGHTS_FD_READ | wasi.RIGHTS_FD_WRITE);
    const errno = call("path_open", DEVICE_DIR_FD, 0, SCRATCH, p.byteLength, oflags, rights, rights, 0, SCRATCH + 512);
    return { errno, fd: view().getUint32(SCRATCH + 512, true) };
  };
  const write = (fd: number, data: Uint8Array): { errno: number; n: number } => {
    bytes().set(data, DATA);
    view().setUint32(SCRATCH, DATA, true);
    view().setUint32(SCRATCH + 4, data.byteLength, true);
    const errno = call("fd_write", fd, SCRATCH, 1, SCRATCH + 8);
    return { errno, n: view().getUint32(SCRATCH + 8, true) };
  };
  const read = (fd: number, size = 4096): { errno: number; data: Uint8Array } => {
    view().setUint32(SCRATCH, DATA, true);
    view().setUint32(SCRATCH + 4, size, true);
    const errno = call("fd_read", fd, SCRATCH, 1, SCRATCH + 8);
    const n = view().getUint32(SCRATCH + 8, true);
    return { errno, data: bytes().slice(DATA, DATA + n) };
  };
  const readAll = (fd: number, chunk = 3): Uint8Array => {
    const parts: Uint8Array[] = [];
    for (;;) {
      const { errno, data } = read(fd, chunk);
      expect(errno).toBe(wasi.ERRNO_SUCCESS);
      if (data.byteLength === 0) return new Uint8Array(Buffer.concat(parts));
      parts.push(data);
    }
  };
  const reply = (fd: number): GuestHttpReply => {
    const parsed = parseReplyFrame(readAll(fd));
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.value;
  };
  return { calls, call, open, write, read, readAll, reply, bytes, view, SCRATCH };
}

const request: GuestHttpRequest = {
  method: "POST",
  url: "https://example.com/upload",
  headers: [["X-A", "1"]],
  body: new Uint8Array(300).map((_, i) => (i * 7) & 0xff),
  redirect: "follow",
};

describe("the HTTP device through the WASI imports", () => {
  it("answers one request frame, written in pieces, with the host's reply", () => {
    const { calls, open, write, reply, call } = setup();
    const { errno, fd } = open();
    expect(errno).toBe(wasi.ERRNO_SUCCESS);
    const frame = serializeRequestFrame(request);
    for (let i = 0; i < frame.byteLength; i += 50) expect(write(fd, frame.subarray(i, i + 50)).errno).toBe(0);
    expect(calls).toHaveLength(0); // nothing is sent before the first read
    expect(reply(fd)).toEqual(OK);
    expect(calls).toEqual([request]);
    expect(call("fd_close", fd)).toBe(wasi.ERRNO_SUCCESS);
  });

  it("calls the host once per channel, however often the reply is read", () => {
    const { calls, open, write, readAll, read } = setup();
    const { fd } = open();
    write(fd, serializeRequestFrame({ ...request, body: undefined, method: "GET" }));
    const first = readAll(fd, 1 << 16);
    expect(first.byteLength).toBeGreaterThan(0);
    expect(read(fd).data.byteLength).toBe(0);
    expect(read(fd).data.byteLength).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toBeUndefined();
  });

  it("gives every open its own channel", () => {
    const { calls, open, write, reply } = setup((r) => ({ ...OK, url: r.url }));
    const a = open();
    const b = open();
    expect(a.fd).not.toBe(b.fd);
    write(a.fd, serializeRequestFrame({ ...request, url: "https://a.example/" }));
    write(b.fd, serializeRequestFrame({ ...request, url: "https://b.example/" }));
    expect(reply(b.fd)).toMatchObject({ url: "https://b.example/" });
    expect(reply(a.fd)).toMatchObject({ url: "https://a.example/" });
    expect(calls.map((c) => c.url)).toEqual(["https://b.example/", "https://a.example/"]);
  });

  it("answers garbage, an empty channel and a truncated body with EGRESS_INVALID_REQUEST, without a host call", () => {
    const { calls, open, write, reply } = setup();
    const garbage = open();
    write(garbage.fd, utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    expect(reply(garbage.fd)).toMatchObject({ ok: false, code: "EGRESS_INVALID_REQUEST" });
    const empty = open();
    expect(reply(empty.fd)).toMatchObject({ ok: false, code: "EGRESS_INVALID_REQUEST" });
    const truncated = open();
    write(truncated.fd, serializeRequestFrame(request).subarray(0, 120));
    expect(reply(truncated.fd)).toMatchObject({ ok: false, code: "EGRESS_INVALID_REQUEST" });
    expect(calls).toHaveLength(0);
  });

  it("refuses writes past the frame (FBIG) and after reading started (PIPE)", () => {
    const { calls, open, write, read, reply } = setup();
    const extra = open();
    const frame = serializeRequestFrame(request);
    expect(write(extra.fd, frame).errno).toBe(0);
    expect(write(extra.fd, utf8("more")).errno).toBe(wasi.ERRNO_FBIG);
    expect(reply(extra.fd)).toMatchObject({ ok: false, code: "EGRESS_INVALID_REQUEST" });

    const long = open();
    const noNewline = new Uint8Array(MAX_REQUEST_HEAD_BYTES + 1).fill(0x20);
    expect(write(long.fd, noNewline).errno).toBe(0);
    expect(write(long.fd, utf8("x")).errno).toBe(wasi.ERRNO_FBIG);
    expect(reply(long.fd)).toMatchObject({ ok: false, code: "EGRESS_INVALID_REQUEST" });

    const after = open();
    write(after.fd, serializeRequestFrame({ ...request, method: "GET", body: undefined }));
    expect(read(after.fd, 1).errno).toBe(0);
    expect(write(after.fd, frame).errno).toBe(wasi.ERRNO_PIPE);
    expect(calls).toHaveLength(1);
  });

  it("cannot be seeked, and a closed channel's number is free again", () => {
    const { open, call, view, SCRATCH, read } = setup();
    const { fd } = open();
    expect(call("fd_seek", fd, 0n, wasi.WHENCE_SET, SCRATCH)).toBe(wasi.ERRNO_SPIPE);
    expect(call("fd_filestat_get", fd, SCRATCH)).toBe(0);
    expect(view().getUint8(SCRATCH + 16)).toBe(wasi.FILETYPE_CHARACTER_DEVICE);
    expect(call("fd_close", fd)).toBe(0);
    expect(read(fd).errno).toBe(wasi.ERRNO_BADF);
    expect(open().fd).toBe(fd);
  });

  it("sits alone in a read-only preopen: it cannot be removed, replaced or joined", () => {
    const { open, call, bytes, SCRATCH } = setup();
    expect(call("fd_prestat_dir_name", DEVICE_DIR_FD, SCRATCH, HTTP_DEVICE_DIR.length)).toBe(0);
    expect(new TextDecoder().decode(bytes().subarray(SCRATCH, SCRATCH + HTTP_DEVICE_DIR.length))).toBe("/dev/sandbox");
    expect(call("fd_prestat_get", DEVICE_DIR_FD + 1, SCRATCH)).toBe(wasi.ERRNO_BADF);
    const at = (s: string): [number, number] => {
      const b = utf8(s);
      bytes().set(b, 4096);
      return [4096, b.byteLength];
    };
    expect(call("path_unlink_file", DEVICE_DIR_FD, ...at(RELATIVE))).toBe(wasi.ERRNO_ROFS);
    expect(call("path_create_directory", DEVICE_DIR_FD, ...at("other"))).toBe(wasi.ERRNO_ROFS);
    expect(open("new", wasi.OFLAGS_CREAT).errno).toBe(wasi.ERRNO_ROFS);
    expect(open("../x").errno).toBe(wasi.ERRNO_NOTCAPABLE);
    expect(open(RELATIVE, wasi.OFLAGS_CREAT | wasi.OFLAGS_EXCL).errno).toBe(wasi.ERRNO_EXIST);
  });

  it("lets a limit error from the host call unwind", () => {
    const { open, write, read } = setup(() => {
      throw new GuestLimitError("TIMEOUT", "cancelled while waiting");
    });
    const { fd } = open();
    write(fd, serializeRequestFrame(request));
    expect(() => read(fd)).toThrow(GuestLimitError);
  });

  it("is not in the guest's root tree", () => {
    const fs = createGuestFilesystem({ files: [], maxFilesystemBytes: 1 });
    const root = fs.preopens[0];
    expect(root?.path_open(0, "dev/sandbox/http", 0, 0n, 0n, 0).ret).toBe(wasi.ERRNO_NOENT);
  });
});

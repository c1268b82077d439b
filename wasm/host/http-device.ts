/**
 * The HTTP host-call device: `/dev/sandbox/http`, a read-only preopen of its own, the one way a WASI
 * guest (Python, Ruby) reaches `RunContext.http`. It adds no import: the guest uses the path_open,
 * fd_write, fd_read and fd_close it already has, all served by our WASI host.
 *
 * Every open gives a fresh channel, used once:
 *   1. the guest writes one request frame (http-frame.ts), in as many writes as it likes;
 *   2. its first read hands the frame to the host call, synchronously (the thread blocks until the
 *      host answers), and the reply frame is then read back until EOF (a read returning 0 bytes).
 * A frame that is not exactly one valid request is answered with EGRESS_INVALID_REQUEST and the
 * host is not called. Writing past what a frame can hold fails with FBIG, writing once the reply is
 * being read with PIPE; seeking fails with SPIPE. Closing drops the channel.
 *
 * The device object is built per execution around that execution's `http` and dropped with its
 * filesystem, so no channel or call can outlive the execution.
 */
import { Fd, Inode, wasi } from "@bjorn3/browser_wasi_shim";
import type { GuestHttpReply, GuestHttpRequest } from "../../src/sandbox/host-call.js";
import {
  headEnd,
  invalidRequestReply,
  MAX_REQUEST_FRAME_BYTES,
  MAX_REQUEST_HEAD_BYTES,
  parseRequestFrame,
  parseRequestHead,
  serializeReplyFrame,
} from "./http-frame.js";
import { nowNs, VfsDirectory, VfsPreopen } from "./wasi-fs.js";

export const HTTP_DEVICE_DIR = "/dev/sandbox";
export const HTTP_DEVICE_NAME = "http";
export const HTTP_DEVICE_PATH = `${HTTP_DEVICE_DIR}/${HTTP_DEVICE_NAME}`;

export type HttpCall = (request: GuestHttpRequest) => GuestHttpReply;

function deviceStat(ino: bigint): wasi.Filestat {
  const st = new wasi.Filestat(ino, wasi.FILETYPE_CHARACTER_DEVICE, 0n);
  const t = nowNs();
  st.atim = t;
  st.mtim = t;
  st.ctim = t;
  return st;
}

/** One open of the device: collects a request frame, then serves the reply frame. */
export class HttpChannel extends Fd {
  private state: "request" | "reply" | "closed" = "request";
  private buffer = new Uint8Array(4096);
  private length = 0;
  /** Set once the written bytes can no longer form a valid frame. */
  private invalid: string | null = null;
  /** Total frame size once the head has been parsed. */
  private frameBytes: number | null = null;
  private reply: Uint8Array = new Uint8Array();
  private position = 0;

  constructor(
    private readonly call: HttpCall,
    private readonly ino: bigint,
  ) {
    super();
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    if (this.state !== "request") return { ret: wasi.ERRNO_PIPE, nwritten: 0 };
    if (this.invalid !== null) return { ret: wasi.ERRNO_FBIG, nwritten: 0 };
    const limit = this.frameBytes ?? MAX_REQUEST_FRAME_BYTES;
    if (this.length + data.byteLength > limit) {
      this.invalid =
        this.frameBytes === null ? "the frame is too large" : "more bytes were written than the head announced";
      return { ret: wasi.ERRNO_FBIG, nwritten: 0 };
    }
    this.append(data);
    if (this.frameBytes === null) this.readHead();
    return { ret: wasi.ERRNO_SUCCESS, nwritten: data.byteLength };
  }

  override fd_read(size: number): { ret: number; data: Uint8Array } {
    if (this.state === "closed") return { ret: wasi.ERRNO_BADF, data: new Uint8Array() };
    if (this.state === "request") {
      this.state = "reply";
      this.reply = serializeReplyFrame(this.answer());
      this.buffer = new Uint8Array();
    }
    const data = this.reply.slice(this.position, this.position + size);
    this.position += data.byteLength;
    return { ret: wasi.ERRNO_SUCCESS, data };
  }

  override fd_close(): number {
    this.state = "closed";
    this.buffer = new Uint8Array();
    this.reply = new Uint8Array();
    return wasi.ERRNO_SUCCESS;
  }

  override fd_seek(): { ret: number; offset: bigint } {
    return { ret: wasi.ERRNO_SPIPE, offset: 0n };
  }

  override fd_tell(): { ret: number; offset: bigint } {
    return { ret: wasi.ERRNO_SPIPE, offset: 0n };
  }

  override fd_pread(): { ret: number; data: Uint8Array } {
    return { ret: wasi.ERRNO_SPIPE, data: new Uint8Array() };
  }

  override fd_pwrite(): { ret: number; nwritten: number } {
    return { ret: wasi.ERRNO_SPIPE, nwritten: 0 };
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    const fdstat = new wasi.Fdstat(wasi.FILETYPE_CHARACTER_DEVICE, 0);
    fdstat.fs_rights_base = BigInt(wasi.RIGHTS_FD_READ | wasi.RIGHTS_FD_WRITE | wasi.RIGHTS_POLL_FD_READWRITE);
    return { ret: wasi.ERRNO_SUCCESS, fdstat };
  }

  override fd_fdstat_set_flags(): number {
    return wasi.ERRNO_SUCCESS;
  }

  override fd_filestat_get(): { ret: number; filestat: wasi.Filestat | null } {
    return { ret: wasi.ERRNO_SUCCESS, filestat: deviceStat(this.ino) };
  }

  /** The host's answer to the frame written so far, or the refusal of a malformed one. */
  private answer(): GuestHttpReply {
    if (this.invalid !== null) return invalidRequestReply(this.invalid);
    const parsed = parseRequestFrame(this.buffer.subarray(0, this.length));
    if (!parsed.ok) return invalidRequestReply(parsed.reason);
    return this.call(parsed.value);
  }

  private append(data: Uint8Array): void {
    const needed = this.length + data.byteLength;
    if (needed > this.buffer.byteLength) {
      const grown = new Uint8Array(Math.min(MAX_REQUEST_FRAME_BYTES, Math.max(needed, this.buffer.byteLength * 2)));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(data, this.length);
    this.length = needed;
  }

  /** Once the head line is complete, fix the frame's size (or mark the channel invalid). */
  private readHead(): void {
    const written = this.buffer.subarray(0, this.length);
    const end = headEnd(written);
    if (end < 0) {
      if (this.length > MAX_REQUEST_HEAD_BYTES) this.invalid = "the head line is too long";
      return;
    }
    const head = parseRequestHead(written.subarray(0, end));
    if (!head.ok) {
      this.invalid = head.reason;
      return;
    }
    this.frameBytes = end + 1 + (head.value.bodyLength ?? 0);
    if (this.length > this.frameBytes) this.invalid = "more bytes were written than the head announced";
  }
}

/** The device file: each open is a new channel to `call`. */
export class HttpDevice extends Inode {
  constructor(private readonly call: HttpCall) {
    super();
  }

  override path_open(): { ret: number; fd_obj: Fd | null } {
    return { ret: wasi.ERRNO_SUCCESS, fd_obj: new HttpChannel(this.call, this.ino) };
  }

  override stat(): wasi.Filestat {
    return deviceStat(this.ino);
  }
}

/**
 * The device's directory as its own read-only preopen, like the Python stdlib's /usr/local/lib: the
 * guest's `/` keeps listing only workspace and tmp, and /dev/sandbox holds only `http`. Give it the
 * same preopen slot at snapshot boot and at every execution (wasi-libc records preopens at boot).
 */
export function httpDevicePreopen(call: HttpCall): VfsPreopen {
  return new VfsPreopen(
    HTTP_DEVICE_DIR,
    new VfsDirectory(new Map<string, Inode>([[HTTP_DEVICE_NAME, new HttpDevice(call)]]), null),
  );
}

/**
 * The guest's fds 0, 1 and 2. Stdin serves the request's bytes then EOF; stdout and stderr write into
 * the execution's OutputSinks, which throw GuestLimitError(OUTPUT_LIMIT) at their cap: that error is
 * not caught here, it unwinds out of the guest.
 *
 * Both report FILETYPE_UNKNOWN (what a pipe looks like through WASI), so the guest sees no terminal,
 * like a real interpreter whose output is piped: no colour codes, normal buffering.
 */
import { Fd, wasi } from "@bjorn3/browser_wasi_shim";
import type { OutputSink } from "../../src/sandbox/wasm/runtime.js";
import { nowNs } from "./wasi-fs.js";

function pipeStat(ino: bigint): wasi.Filestat {
  const st = new wasi.Filestat(ino, wasi.FILETYPE_UNKNOWN, 0n);
  const t = nowNs();
  st.atim = t;
  st.mtim = t;
  st.ctim = t;
  return st;
}

export class StdinFd extends Fd {
  private position = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly ino: bigint,
  ) {
    super();
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.bytes.byteLength - this.position;
  }

  override fd_read(size: number): { ret: number; data: Uint8Array } {
    const data = this.bytes.slice(this.position, this.position + size);
    this.position += data.byteLength;
    return { ret: wasi.ERRNO_SUCCESS, data };
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    const fdstat = new wasi.Fdstat(wasi.FILETYPE_UNKNOWN, 0);
    fdstat.fs_rights_base = BigInt(wasi.RIGHTS_FD_READ | wasi.RIGHTS_POLL_FD_READWRITE);
    return { ret: wasi.ERRNO_SUCCESS, fdstat };
  }

  override fd_filestat_get(): { ret: number; filestat: wasi.Filestat | null } {
    return { ret: wasi.ERRNO_SUCCESS, filestat: pipeStat(this.ino) };
  }

  override fd_fdstat_set_flags(): number {
    return wasi.ERRNO_SUCCESS;
  }
}

export class OutputFd extends Fd {
  constructor(
    private readonly sink: OutputSink,
    private readonly ino: bigint,
    /** Called before every write; throws to stop the guest (deadline, cancellation). */
    private readonly check: () => void,
  ) {
    super();
  }

  override fd_write(data: Uint8Array): { ret: number; nwritten: number } {
    this.check();
    this.sink.write(data);
    return { ret: wasi.ERRNO_SUCCESS, nwritten: data.byteLength };
  }

  override fd_fdstat_get(): { ret: number; fdstat: wasi.Fdstat | null } {
    const fdstat = new wasi.Fdstat(wasi.FILETYPE_UNKNOWN, wasi.FDFLAGS_APPEND);
    fdstat.fs_rights_base = BigInt(wasi.RIGHTS_FD_WRITE | wasi.RIGHTS_POLL_FD_READWRITE);
    return { ret: wasi.ERRNO_SUCCESS, fdstat };
  }

  override fd_filestat_get(): { ret: number; filestat: wasi.Filestat | null } {
    return { ret: wasi.ERRNO_SUCCESS, filestat: pipeStat(this.ino) };
  }

  override fd_fdstat_set_flags(): number {
    return wasi.ERRNO_SUCCESS;
  }
}

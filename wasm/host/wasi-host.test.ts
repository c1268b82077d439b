import { wasi } from "@bjorn3/browser_wasi_shim";
import { describe, expect, it } from "vitest";
import type { OutputSink } from "../../src/sandbox/wasm/runtime.js";
import { GuestLimitError, isGuestLimitError } from "./guest-limit.js";
import {
  createWasiHost,
  isWasiExit,
  MAX_OPEN_FDS,
  unstartedWasiHost,
  type WasiHost,
  type WasiHostOptions,
} from "./wasi-host.js";
import { createGuestFilesystem } from "./wasi-workspace.js";

class Sink implements OutputSink {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  constructor(private readonly cap = 1 << 20) {}
  write(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    if (this.length + bytes.byteLength > this.cap) throw new GuestLimitError("OUTPUT_LIMIT", "cap");
    this.chunks.push(bytes.slice());
    this.length += bytes.byteLength;
  }
  text(): string {
    return new TextDecoder().decode(Buffer.concat(this.chunks));
  }
}

type Fn = (...args: (number | bigint)[]) => number;

function setup(overrides: Partial<WasiHostOptions> = {}, pages = 1) {
  const stdout = new Sink();
  const stderr = new Sink(8);
  const fs = createGuestFilesystem({ files: [], maxFilesystemBytes: 1 << 20 });
  const host = createWasiHost({
    args: ["prog", "a"],
    env: { GREETING: "hi" },
    stdin: "in",
    preopens: fs.preopens,
    context: { stdout, stderr, deadline: Date.now() + 10_000, cancelled: () => false },
    ...overrides,
  });
  const memory = new WebAssembly.Memory({ initial: pages });
  host.bind({ exports: { memory } } as unknown as WebAssembly.Instance);
  const view = new DataView(memory.buffer);
  const bytes = new Uint8Array(memory.buffer);
  const call = (name: string, ...args: (number | bigint)[]): number => (host.imports[name] as unknown as Fn)(...args);
  const putString = (at: number, s: string): number => {
    const b = new TextEncoder().encode(s);
    bytes.set(b, at);
    return b.byteLength;
  };
  return { host, call, view, bytes, stdout, stderr, putString };
}

/** Write one clock subscription at `at`. */
function clockSub(view: DataView, at: number, userdata: bigint, clock: number, timeoutNs: bigint, flags = 0): void {
  view.setBigUint64(at, userdata, true);
  view.setUint8(at + 8, wasi.EVENTTYPE_CLOCK);
  view.setUint32(at + 16, clock, true);
  view.setBigUint64(at + 24, timeoutNs, true);
  view.setUint16(at + 40, flags, true);
}

describe("args, env, stdio", () => {
  it("exposes exactly the given environment", () => {
    const { call, view, bytes } = setup();
    expect(call("environ_sizes_get", 0, 4)).toBe(0);
    expect(view.getUint32(0, true)).toBe(1);
    expect(call("environ_get", 16, 64)).toBe(0);
    const len = view.getUint32(4, true);
    expect(new TextDecoder().decode(bytes.subarray(64, 64 + len))).toBe("GREETING=hi\0");
  });

  it("writes stdout into the sink and lets OUTPUT_LIMIT propagate", () => {
    const { call, view, putString, stdout } = setup();
    const n = putString(200, "hello");
    view.setUint32(100, 200, true);
    view.setUint32(104, n, true);
    expect(call("fd_write", 1, 100, 1, 120)).toBe(0);
    expect(stdout.text()).toBe("hello");
    expect(view.getUint32(120, true)).toBe(5);
    let err: unknown;
    try {
      putString(200, "0123456789");
      view.setUint32(104, 10, true);
      call("fd_write", 2, 100, 1, 120);
    } catch (e) {
      err = e;
    }
    expect(isGuestLimitError(err) && err.code).toBe("OUTPUT_LIMIT");
  });

  it("reads stdin then EOF", () => {
    const { call, view, bytes } = setup();
    view.setUint32(100, 300, true);
    view.setUint32(104, 16, true);
    expect(call("fd_read", 0, 100, 1, 120)).toBe(0);
    expect(view.getUint32(120, true)).toBe(2);
    expect(new TextDecoder().decode(bytes.subarray(300, 302))).toBe("in");
    call("fd_read", 0, 100, 1, 120);
    expect(view.getUint32(120, true)).toBe(0);
  });

  it("stops a guest writing after its deadline", () => {
    const stdout = new Sink();
    const { call, view } = setup({
      context: { stdout, stderr: new Sink(), deadline: Date.now() - 1, cancelled: () => false },
    });
    view.setUint32(100, 200, true);
    view.setUint32(104, 1, true);
    expect(() => call("fd_write", 1, 100, 1, 120)).toThrow(GuestLimitError);
    expect(stdout.length).toBe(0);
  });
});

describe("a host built before its execution (unstartedWasiHost)", () => {
  /** Binds `host` to a fresh one-page memory; returns a caller of its imports and the memory's bytes. */
  function bound(host: WasiHost) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    host.bind({ exports: { memory } } as unknown as WebAssembly.Instance);
    const call = (name: string, ...args: (number | bigint)[]): number => (host.imports[name] as unknown as Fn)(...args);
    return { call, view: new DataView(memory.buffer), bytes: new Uint8Array(memory.buffer) };
  }

  function start(unstarted: ReturnType<typeof unstartedWasiHost>, stdin: string, env: Record<string, string>) {
    const stdout = new Sink();
    const fs = createGuestFilesystem({ files: [], maxFilesystemBytes: 1 << 20 });
    const host = unstarted.start({
      env,
      stdin,
      preopens: fs.preopens,
      context: { stdout, stderr: new Sink(), deadline: Date.now() + 10_000, cancelled: () => false },
    });
    return { ...bound(host), stdout };
  }

  it("serves the execution it was started with: its environment, stdin, output and preopens", () => {
    const a = start(unstartedWasiHost(), "from a", { WHO: "a" });
    const b = start(unstartedWasiHost(), "from b", { WHO: "b" });
    for (const [run, who] of [
      [a, "a"],
      [b, "b"],
    ] as const) {
      expect(run.call("environ_get", 16, 64)).toBe(0);
      expect(new TextDecoder().decode(run.bytes.subarray(64, 70))).toBe(`WHO=${who}\0`);
      run.view.setUint32(100, 300, true);
      run.view.setUint32(104, 64, true);
      expect(run.call("fd_read", 0, 100, 1, 120)).toBe(0);
      const n = run.view.getUint32(120, true);
      expect(new TextDecoder().decode(run.bytes.subarray(300, 300 + n))).toBe(`from ${who}`);
      run.view.setUint32(104, n, true);
      expect(run.call("fd_write", 1, 100, 1, 120)).toBe(0);
      expect(run.stdout.text()).toBe(`from ${who}`);
      // fd 3 is the first preopen ("/"), fd 6 none.
      expect(run.call("fd_prestat_get", 3, 200)).toBe(0);
      expect(run.call("fd_prestat_get", 6, 200)).toBe(wasi.ERRNO_BADF);
    }
  });

  it("starts once", () => {
    const unstarted = unstartedWasiHost();
    start(unstarted, "", {});
    expect(() => start(unstarted, "", {})).toThrow(/already has its execution/);
  });
});

describe("filestat layout", () => {
  it("writes size and timestamps at the WASI offsets (40/48/56), unlike the shim", () => {
    const { call, view, putString } = setup();
    const len = putString(400, "f.txt");
    expect(call("path_open", 4, 0, 400, len, wasi.OFLAGS_CREAT, BigInt(wasi.RIGHTS_FD_WRITE), 0n, 0, 500)).toBe(0);
    const fd = view.getUint32(500, true);
    expect(fd).toBe(6);
    for (let i = 0; i < 64; i++) view.setUint8(1000 + i, 0xee);
    expect(call("fd_filestat_get", fd, 1000)).toBe(0);
    expect(view.getUint8(1016)).toBe(wasi.FILETYPE_REGULAR_FILE);
    expect(view.getBigUint64(1032, true)).toBe(0n);
    const mtime = view.getBigUint64(1048, true);
    expect(mtime).toBeGreaterThan(1_600_000_000n * 1_000_000_000n);
    expect(view.getBigUint64(1056, true)).toBe(mtime);
  });

  it("reuses closed fd numbers and caps open fds", () => {
    const { call, view, putString } = setup();
    const len = putString(400, "g.txt");
    call("path_open", 4, 0, 400, len, wasi.OFLAGS_CREAT, 0n, 0n, 0, 500);
    const first = view.getUint32(500, true);
    expect(call("fd_close", first)).toBe(0);
    call("path_open", 4, 0, 400, len, 0, 0n, 0n, 0, 500);
    expect(view.getUint32(500, true)).toBe(first);
    let last = 0;
    for (let i = 0; i < MAX_OPEN_FDS + 5; i++) last = call("path_open", 4, 0, 400, len, 0, 0n, 0n, 0, 500);
    expect(last).toBe(wasi.ERRNO_MFILE);
  });
});

describe("poll_oneoff", () => {
  it("sleeps for a relative monotonic timeout and reports the event", () => {
    const { call, view } = setup();
    clockSub(view, 0, 42n, wasi.CLOCKID_MONOTONIC, 60_000_000n);
    const started = performance.now();
    expect(call("poll_oneoff", 0, 1024, 1, 2048)).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(view.getUint32(2048, true)).toBe(1);
    expect(view.getBigUint64(1024, true)).toBe(42n);
    expect(view.getUint16(1024 + 8, true)).toBe(0);
    expect(view.getUint8(1024 + 10)).toBe(wasi.EVENTTYPE_CLOCK);
  });

  it("honours the absolute-time flag at offset 40 (the shim reads 36)", () => {
    const { call, view } = setup();
    const past = BigInt(Date.now() - 1000) * 1_000_000n;
    clockSub(view, 0, 1n, wasi.CLOCKID_REALTIME, past, wasi.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    const started = performance.now();
    expect(call("poll_oneoff", 0, 1024, 1, 2048)).toBe(0);
    expect(performance.now() - started).toBeLessThan(50);
    expect(view.getUint32(2048, true)).toBe(1);
  });

  it("answers fd subscriptions at once, with stdin's pending bytes", () => {
    const { call, view } = setup();
    clockSub(view, 0, 1n, wasi.CLOCKID_MONOTONIC, 5_000_000_000n);
    view.setBigUint64(48, 2n, true);
    view.setUint8(48 + 8, wasi.EVENTTYPE_FD_READ);
    view.setUint32(48 + 16, 0, true);
    const started = performance.now();
    expect(call("poll_oneoff", 0, 1024, 2, 2048)).toBe(0);
    expect(performance.now() - started).toBeLessThan(100);
    expect(view.getUint32(2048, true)).toBe(1);
    expect(view.getBigUint64(1024, true)).toBe(2n);
    expect(view.getBigUint64(1024 + 16, true)).toBe(2n);
  });

  it("never sleeps past the execution deadline", () => {
    const { call, view } = setup({
      context: { stdout: new Sink(), stderr: new Sink(), deadline: Date.now() + 80, cancelled: () => false },
    });
    clockSub(view, 0, 1n, wasi.CLOCKID_MONOTONIC, 10_000_000_000n);
    const started = performance.now();
    expect(() => call("poll_oneoff", 0, 1024, 1, 2048)).toThrow(/deadline/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("the rest", () => {
  it("fills random_get from the CSPRNG", () => {
    const { call, bytes } = setup();
    expect(call("random_get", 100, 64)).toBe(0);
    expect(bytes.subarray(100, 164).some((b) => b !== 0)).toBe(true);
  });

  it("fills exactly the asked range of random_get, past 64 KiB too, and refuses one outside memory", () => {
    const { call, bytes } = setup({}, 4);
    const start = 1000;
    const length = 3 * 65536;
    expect(call("random_get", start, length)).toBe(0);
    expect(bytes[start - 1]).toBe(0);
    expect(bytes[start + length]).toBe(0);
    // No 4 KiB stretch of the range is left zero (a chance of 2^-32768 per stretch).
    for (let at = start; at + 4096 <= start + length; at += 4096) {
      expect(
        bytes.subarray(at, at + 4096).some((b) => b !== 0),
        `bytes ${at}+4096`,
      ).toBe(true);
    }
    expect(() => call("random_get", bytes.byteLength - 10, 64)).toThrow(RangeError);
  });

  it("maps proc_exit to WasiExit with the code", () => {
    const { call } = setup();
    let err: unknown;
    try {
      call("proc_exit", 3);
    } catch (e) {
      err = e;
    }
    expect(isWasiExit(err) && err.code).toBe(3);
  });

  it("denies sockets and unknown clocks", () => {
    const { call } = setup();
    expect(call("sock_accept", 3, 0, 0)).toBe(wasi.ERRNO_NOSYS);
    expect(call("sock_send", 3, 0, 0, 0, 0)).toBe(wasi.ERRNO_NOSYS);
    expect(call("clock_time_get", 99, 0n, 0)).toBe(wasi.ERRNO_INVAL);
    expect(call("proc_raise", 9)).toBe(wasi.ERRNO_NOSYS);
  });
});

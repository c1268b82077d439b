/**
 * `poll_oneoff` done right. browser_wasi_shim 0.4.2 reads the clock flags at offset 36 instead of 40,
 * handles a single subscription, never writes `nevents`, and busy-waits. Here:
 * - any number of subscriptions; fd_read/fd_write subscriptions on an open fd are ready at once
 *   (every guest fd is in-memory), with `nbytes` = what stdin still holds, or 0;
 * - clock subscriptions (relative or absolute, realtime or monotonic) sleep with Atomics.wait on a
 *   private SharedArrayBuffer, in slices, never past the execution deadline: when the deadline
 *   comes first the sleep ends with GuestLimitError("TIMEOUT").
 */
import { wasi } from "@bjorn3/browser_wasi_shim";
import { GuestLimitError } from "./guest-limit.js";

const SUBSCRIPTION_BYTES = 48;
const EVENT_BYTES = 32;
/** Longest single wait, so cancellation is noticed promptly. */
const SLICE_MS = 50;

export interface PollEnvironment {
  memory(): DataView;
  /** `nbytes` ready on `fd`, or null when the fd is not open. */
  readyBytes(fd: number): bigint | null;
  /** Current time of a clock in nanoseconds, or null for an unsupported clock. */
  now(clockId: number): bigint | null;
  /** Epoch milliseconds at which the guest must stop; read at every check (it can move later). */
  deadline(): number;
  cancelled(): boolean;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Block the thread for `ms` milliseconds (0 returns at once). */
export function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

interface Event {
  userdata: bigint;
  error: number;
  type: number;
  nbytes: bigint;
}

export function pollOneoff(
  env: PollEnvironment,
  inPtr: number,
  outPtr: number,
  nsubscriptions: number,
  neventsPtr: number,
): number {
  if (nsubscriptions === 0) return wasi.ERRNO_INVAL;
  let view = env.memory();
  const ready: Event[] = [];
  const timers: { userdata: bigint; wakeAtMs: number }[] = [];
  const nowMs = Date.now();

  for (let i = 0; i < nsubscriptions; i++) {
    const base = inPtr + i * SUBSCRIPTION_BYTES;
    const userdata = view.getBigUint64(base, true);
    const type = view.getUint8(base + 8);
    if (type === wasi.EVENTTYPE_CLOCK) {
      const clockId = view.getUint32(base + 16, true);
      const timeout = view.getBigUint64(base + 24, true);
      const flags = view.getUint16(base + 40, true);
      const clockNow = env.now(clockId);
      if (clockNow === null) {
        ready.push({ userdata, error: wasi.ERRNO_INVAL, type, nbytes: 0n });
        continue;
      }
      const absolute = (flags & wasi.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) !== 0;
      const remainingNs = absolute ? timeout - clockNow : timeout;
      const remainingMs =
        remainingNs <= 0n ? 0 : Number(remainingNs / 1_000_000n) + (remainingNs % 1_000_000n > 0n ? 1 : 0);
      timers.push({ userdata, wakeAtMs: nowMs + remainingMs });
    } else if (type === wasi.EVENTTYPE_FD_READ || type === wasi.EVENTTYPE_FD_WRITE) {
      const fd = view.getUint32(base + 16, true);
      const nbytes = env.readyBytes(fd);
      ready.push(
        nbytes === null
          ? { userdata, error: wasi.ERRNO_BADF, type, nbytes: 0n }
          : { userdata, error: wasi.ERRNO_SUCCESS, type, nbytes: type === wasi.EVENTTYPE_FD_READ ? nbytes : 0n },
      );
    } else {
      ready.push({ userdata, error: wasi.ERRNO_INVAL, type, nbytes: 0n });
    }
  }

  if (ready.length === 0 && timers.length > 0) {
    const wakeAt = Math.min(...timers.map((t) => t.wakeAtMs));
    for (;;) {
      if (env.cancelled()) throw new GuestLimitError("TIMEOUT", "the execution was stopped while sleeping");
      const now = Date.now();
      if (now >= wakeAt) break;
      if (now >= env.deadline()) throw new GuestLimitError("TIMEOUT", "the guest slept past its deadline");
      sleepMs(Math.min(SLICE_MS, wakeAt - now, Math.max(1, env.deadline() - now)));
    }
    const now = Date.now();
    for (const t of timers) {
      if (t.wakeAtMs <= now)
        ready.push({ userdata: t.userdata, error: wasi.ERRNO_SUCCESS, type: wasi.EVENTTYPE_CLOCK, nbytes: 0n });
    }
  }

  view = env.memory();
  ready.forEach((event, i) => {
    const base = outPtr + i * EVENT_BYTES;
    for (let b = 0; b < EVENT_BYTES; b += 8) view.setBigUint64(base + b, 0n, true);
    view.setBigUint64(base, event.userdata, true);
    view.setUint16(base + 8, event.error, true);
    view.setUint8(base + 10, event.type);
    view.setBigUint64(base + 16, event.nbytes, true);
  });
  view.setUint32(neventsPtr, ready.length, true);
  return wasi.ERRNO_SUCCESS;
}

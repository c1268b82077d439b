/**
 * Who gets the cores right after a run: the main thread answering it, or its worker preparing the
 * next spare (Python rewrites ~8 MiB of memory, JavaScript clones an instance: 1.3-2.5 ms of CPU).
 *
 * A worker starts that preparation as soon as it has posted its result. When the host had been idle
 * just before, the main thread then waited for a core for most of that time. Measured on this 2-core
 * VM (Linux 6.18, EEVDF), one client pausing 10 ms between executions: the result took ~1.1 ms
 * from the worker's post to the main thread's handler (0.09 ms back-to-back), the main thread waited
 * ~1.5 ms per execution in the run queue (0.5 back-to-back), and the client's p50 doubled (JavaScript
 * 1.9 -> 3.5 ms, Python 2.7 -> 5.2 ms). The scheduler put the woken main thread behind the busy
 * worker (its slice is protected for up to ~1.5 ms) instead of on the idle, halted second vCPU.
 * Pauses of 2 ms or less did not show it; 5 ms and more did in full.
 *
 * So a run that starts after the pool was idle for HANDOFF_AFTER_IDLE_MS carries `handoff`: its
 * worker, after posting the result, waits (at most HANDOFF_MAX_WAIT_MS) until the main thread lets it
 * go, which it does once it has finished with the result: after two turns of its event loop (the
 * store's commit, the group fsync that runs at the next setImmediate, the reply), or at once when
 * other runs are in flight or queued (then the spare is wanted soon and the cores are busy anyway),
 * or when the next run is handed to that worker. Back-to-back runs do not wait: the cores are awake
 * and the next request would wait for the later spare (Python +1.15 ms p50 when they did).
 *
 * Measured with benchmarks/dev/measure-ab.ts against the build before, 10-12 alternating rounds,
 * p50, one client:
 * - pausing 10 ms: JavaScript -0.86 ms (faster in 12/12), Python -1.43 ms (12/12), Ruby -2.34 ms
 *   (12/12), Bash -1.23 ms (12/12);
 * - pausing 3 ms: JavaScript -0.90 ms (10/10), Python -1.47 ms (10/10); 200 ms: -1.19 and -1.50 ms
 *   (8/8); 1 ms: +0.04 ms (4/10) and -0.48 ms (8/10);
 * - back-to-back: JavaScript -0.08 ms (6/12), Python +0.05 ms (4/12).
 * 2 and 4 clients each pausing 10 ms: JavaScript -0.34 and -0.47 ms (6/10), Python -1.89 and
 * -1.13 ms (9/10). 2 and 8 clients back-to-back: within the noise (3 handoffs in 1,000 executions
 * at 8 clients). A 5 ms cap
 * instead of 2 (the worker gave up waiting in ~5% of handoffs, then in <1%) changed nothing.
 */
import { CONTROL_HANDOFF } from "./protocol.js";

/** A run that starts after the pool was idle this long (ms) hands the cores to the main thread at its end. */
export const HANDOFF_AFTER_IDLE_MS = 3;
/** The longest a worker waits to be let go (ms): a busy main thread never holds it up for longer. */
export const HANDOFF_MAX_WAIT_MS = 2;

/** Decides per run whether its worker waits for the main thread after replying. */
export class HandoffPolicy {
  private active = 0;
  private lastActivity = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A run is handed to a worker: whether that worker should wait after replying. */
  started(): boolean {
    const now = this.now();
    const idle = this.active === 0 && now - this.lastActivity >= HANDOFF_AFTER_IDLE_MS;
    this.active++;
    this.lastActivity = now;
    return idle;
  }

  /** A run ended (answered, killed or faulted). */
  ended(): void {
    this.active = Math.max(0, this.active - 1);
    this.lastActivity = this.now();
  }
}

/** Main thread: lets the worker waiting on this run's control words go (idempotent). */
export function releaseWorker(control: Int32Array): void {
  Atomics.store(control, CONTROL_HANDOFF, 1);
  Atomics.notify(control, CONTROL_HANDOFF);
}

/** Worker: waits until the main thread lets it go, or HANDOFF_MAX_WAIT_MS passed. Whether it was let go. */
export function awaitRelease(control: Int32Array): boolean {
  return Atomics.wait(control, CONTROL_HANDOFF, 0, HANDOFF_MAX_WAIT_MS) !== "timed-out";
}

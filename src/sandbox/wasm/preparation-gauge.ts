/**
 * A worker's count of background preparations that a run arriving now would wait for (scheduled or
 * under way), in shared memory: the worker counts, and the main thread reads it when it picks a
 * worker for the next run (worker-pool.ts `pickIdleSlot`), so a run can go to an idle worker with
 * nothing to prepare instead of waiting for one that is still preparing.
 *
 * Only preparations long enough to be worth avoiding are counted (RunnerOptions.gauge): Ruby's next
 * spare (a new instance, ~1 ms, and its 54.6 MiB memory rewritten to the snapshot, ~1.9 ms in-process,
 * more after a run that dirtied its heap). One client sending Ruby executions back-to-back, against
 * the build before (benchmarks/dev/measure-ab.ts, 10 alternating rounds, twice): p50 -0.78 ms
 * (faster in 8 of 10) and -1.18 ms (10 of 10). JavaScript's clone (~1.3 ms) and Python's rewrite
 * (~1.8 ms) are not counted: a run that went to the other worker instead was slower, +0.4 and
 * +0.3 ms (faster in 2 of 10 each), as it then runs beside the preparation on 2 cores. Bash's
 * in-place restore was measured counted and not: -0.45 ms (5 of 10) and -0.18 ms (6 of 10), within
 * the noise, so it is not counted either.
 */
export class PreparationGauge {
  private readonly cells: Int32Array;

  /** `shared`: a SharedArrayBuffer of 4 bytes (the main thread makes it, the worker gets it in `init`). */
  constructor(readonly shared: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cells = new Int32Array(shared, 0, 1);
  }

  /** A preparation was scheduled; `end` once it finished, failed or was given up. */
  begin(): void {
    Atomics.add(this.cells, 0, 1);
  }

  end(): void {
    Atomics.sub(this.cells, 0, 1);
  }

  get busy(): boolean {
    return Atomics.load(this.cells, 0) > 0;
  }
}

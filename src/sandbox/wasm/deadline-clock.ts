/** A run's deadline timers, with pauses for time spent waiting on a human. */
/**
 * The run's deadline timers. `pause` stops them and `resume` re-arms them with the time that was
 * left, moving the deadline later by the pause; pauses nest (hops of one call may each wait).
 */
export class DeadlineClock {
  private timers: NodeJS.Timeout[] = [];
  private pausedAt: number | undefined;
  private pauses = 0;

  constructor(
    private deadlineAt: number,
    private readonly graceMs: number,
    private readonly onCancel: () => void,
    private readonly onKill: () => void,
  ) {
    this.arm();
  }

  /** Epoch milliseconds when the guest is asked to stop. */
  get deadline(): number {
    return this.pausedAt === undefined ? this.deadlineAt : this.deadlineAt + (Date.now() - this.pausedAt);
  }

  pause(): () => void {
    if (this.pauses++ === 0) {
      this.pausedAt = Date.now();
      this.clear();
    }
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      if (--this.pauses > 0 || this.pausedAt === undefined) return;
      this.deadlineAt += Date.now() - this.pausedAt;
      this.pausedAt = undefined;
      this.arm();
    };
  }

  stop(): void {
    this.pauses = Number.POSITIVE_INFINITY;
    this.clear();
  }

  private arm(): void {
    const left = this.deadlineAt - Date.now();
    this.timers = [
      setTimeout(this.onCancel, Math.max(0, left)),
      setTimeout(this.onKill, Math.max(0, left + this.graceMs)),
    ];
  }

  private clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }
}

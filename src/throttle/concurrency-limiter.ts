/**
 * A cap on concurrent work per key: up to `maxActive` run at once, up to `maxQueued` more wait in
 * FIFO order, and anything beyond is refused at once. A waiter whose signal aborts leaves the queue.
 */
export interface ConcurrencyOptions {
  readonly maxActive: number;
  readonly maxQueued: number;
}

interface Waiter {
  readonly resolve: (release: () => void) => void;
  readonly reject: (reason: unknown) => void;
}

interface Lane {
  active: number;
  readonly queue: Waiter[];
}

export class QueueFullError extends Error {
  constructor() {
    super("too many concurrent executions for this key");
    this.name = "QueueFullError";
  }
}

export class ConcurrencyLimiter {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly options: ConcurrencyOptions) {}

  /** Resolves with a release function once a slot is free; rejects with QueueFullError when full. */
  acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const lane = this.lanes.get(key) ?? { active: 0, queue: [] };
    this.lanes.set(key, lane);
    if (lane.active < this.options.maxActive) {
      lane.active++;
      return Promise.resolve(this.releaser(key, lane));
    }
    if (lane.queue.length >= this.options.maxQueued) return Promise.reject(new QueueFullError());
    return new Promise<() => void>((resolve, reject) => {
      const onAbort = () => {
        const index = lane.queue.indexOf(waiter);
        if (index !== -1) lane.queue.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: (release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
        reject,
      };
      lane.queue.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Running and waiting counts, for tests and metrics. */
  stats(key: string): { active: number; queued: number } {
    const lane = this.lanes.get(key);
    return { active: lane?.active ?? 0, queued: lane?.queue.length ?? 0 };
  }

  private releaser(key: string, lane: Lane): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = lane.queue.shift();
      if (next) {
        next.resolve(this.releaser(key, lane));
        return;
      }
      lane.active--;
      if (lane.active === 0) this.lanes.delete(key);
    };
  }
}

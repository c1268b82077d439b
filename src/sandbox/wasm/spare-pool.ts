/**
 * Spares: interpreter instances prepared ahead of time, each handed out exactly once.
 *
 * A runtime's Runner keeps one SparePool per worker thread. `take(limit)` hands over a never-used
 * instance prepared for that memory limit (or prepares one on the spot); `refill(limit)` prepares the
 * next one once the current work yields (setImmediate), so the preparation never sits between a
 * guest finishing and its reply being sent. A spare is keyed by the memory limit it was built for
 * (a WebAssembly.Memory's maximum is fixed at creation); spares for another limit are dropped when a
 * request asks for a different one.
 *
 * Sizing: a prepared instance holds its whole linear memory (Ruby ~70 MiB), so how many spares a
 * pool keeps is the operator's call (RunnerOptions, from `SANDBOX_SPARES`: default one per language
 * and worker), and no spare is prepared in the background while less than `minAvailableMemoryBytes`
 * is available to this process (availableMemory: in a container, its cgroup's limit counts).
 * Instances are never reused and never returned to the pool: the pool only ever grows by `prepare`.
 */
import { freemem } from "node:os";
import type { PreparationGauge } from "./preparation-gauge.js";

const MiB = 1024 * 1024;

/** The default of SANDBOX_SPARE_MIN_AVAILABLE_BYTES. */
export const DEFAULT_SPARE_MIN_AVAILABLE_BYTES = 256 * MiB;

/**
 * Bytes this process can still allocate: Node's process.availableMemory() (the host's available
 * memory, or what is left under the cgroup's memory limit when that is lower), os.freemem() where
 * Node lacks it.
 */
export function availableMemory(): number {
  const fromProcess = (process as { availableMemory?: () => number }).availableMemory;
  return typeof fromProcess === "function" ? fromProcess.call(process) : freemem();
}

/**
 * How long one reading of availableMemory() answers for every spare pool of a thread (ms). A reading
 * costs more than some of the preparations it guards: process.availableMemory() reads the cgroup's
 * files (five opens), measured here at ~70 us back-to-back and ~220 us after a 10 ms pause, against
 * a JavaScript spare's ~1.3 ms: one per preparation added up to a sixth to it. Within 100 ms a
 * thread prepares at most a few dozen spares, each replacing one that was taken (the pools never grow
 * past their capacity), so a reading that old still says whether memory is short.
 */
export const AVAILABLE_MEMORY_READING_MS = 100;

/** `read`, called again only once its last answer is `maxAgeMs` old. */
export function recentReading(
  read: () => number,
  maxAgeMs: number,
  now: () => number = () => performance.now(),
): () => number {
  let value = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const time = now();
    if (time - readAt >= maxAgeMs) {
      value = read();
      readAt = time;
    }
    return value;
  };
}

/** availableMemory(), read at most once per AVAILABLE_MEMORY_READING_MS in this thread. */
const recentAvailableMemory = recentReading(availableMemory, AVAILABLE_MEMORY_READING_MS);

export interface SparePoolOptions<T> {
  /** Builds one never-used instance whose memory is capped at `memoryLimitBytes`. */
  readonly prepare: (memoryLimitBytes: number) => Promise<T>;
  /** Spares kept ready (default 1; 0 prepares every instance on demand). */
  readonly capacity?: number;
  /** No spare is prepared in the background while less memory than this is available (default 256 MiB). */
  readonly minAvailableMemoryBytes?: number;
  /** Releases host resources of a spare that will never run (default: drop the reference). */
  readonly discard?: (instance: T) => void;
  /** Runs background work after the current task yields (default setImmediate); tests inject their own. */
  readonly schedule?: (task: () => void) => void;
  /** The memory still available to this process, in bytes (default availableMemory, read at most every 100 ms). */
  readonly availableMemory?: () => number;
  /** Counts each background preparation from its scheduling to its end (preparation-gauge.ts). */
  readonly gauge?: PreparationGauge;
}

interface Spare<T> {
  readonly memoryLimitBytes: number;
  readonly instance: Promise<T>;
}

export interface SparePoolStats {
  /** Instances prepared in the background. */
  readonly prepared: number;
  /** take() calls answered by a spare. */
  readonly hits: number;
  /** take() calls that had to prepare an instance on the spot. */
  readonly misses: number;
  /** Spares dropped unused (their limit was no longer asked for, or the pool was closed). */
  readonly dropped: number;
}

export class SparePool<T> {
  private spares: Spare<T>[] = [];
  private scheduled = false;
  private closed = false;
  private wantedLimit: number | undefined;
  private counts = { prepared: 0, hits: 0, misses: 0, dropped: 0 };
  private readonly capacity: number;
  private readonly minAvailableMemoryBytes: number;
  private readonly schedule: (task: () => void) => void;
  private readonly availableMemory: () => number;

  constructor(private readonly options: SparePoolOptions<T>) {
    this.capacity = Math.max(0, Math.floor(options.capacity ?? 1));
    this.minAvailableMemoryBytes = options.minAvailableMemoryBytes ?? DEFAULT_SPARE_MIN_AVAILABLE_BYTES;
    this.schedule = options.schedule ?? ((task) => void setImmediate(task));
    this.availableMemory = options.availableMemory ?? recentAvailableMemory;
  }

  /**
   * A never-used instance for this limit: a spare if one matches, otherwise one prepared now. The
   * instance leaves the pool for good. A spare whose preparation failed is replaced by a new attempt,
   * whose failure is the caller's.
   */
  async take(memoryLimitBytes: number): Promise<T> {
    this.dropOtherLimits(memoryLimitBytes);
    const spare = this.spares.shift();
    if (spare) {
      try {
        const instance = await spare.instance;
        this.counts.hits++;
        return instance;
      } catch {
        // Fall through: prepare on the spot, so a transient failure in the background is retried.
      }
    }
    this.counts.misses++;
    return this.options.prepare(memoryLimitBytes);
  }

  /** Prepares spares for this limit, up to the capacity, after the current work yields. */
  refill(memoryLimitBytes: number): void {
    this.wantedLimit = memoryLimitBytes;
    if (this.scheduled || this.closed || this.capacity === 0) return;
    this.scheduled = true;
    this.options.gauge?.begin();
    this.schedule(() => {
      this.scheduled = false;
      const preparing = this.fill();
      if (!this.options.gauge) return;
      if (preparing) void preparing.then(this.gaugeEnd, this.gaugeEnd);
      else this.options.gauge.end();
    });
  }

  /**
   * Prepares the spares for this limit now and waits for them (at createRunner, so the first request
   * is warm too). Rejects when preparing fails: a runtime that cannot build an instance is unavailable.
   * With capacity 0 it prepares one instance and discards it: the check still happens at start.
   */
  async prime(memoryLimitBytes: number): Promise<void> {
    this.wantedLimit = memoryLimitBytes;
    this.dropOtherLimits(memoryLimitBytes);
    if (this.capacity === 0 && !this.closed) {
      const instance = await this.options.prepare(memoryLimitBytes);
      this.options.discard?.(instance);
      return;
    }
    while (!this.closed && this.spares.length < this.capacity) {
      const instance = this.options.prepare(memoryLimitBytes);
      this.spares.push({ memoryLimitBytes, instance });
      this.counts.prepared++;
      await instance;
    }
  }

  /** How many spares exist (ready or being prepared). */
  get size(): number {
    return this.spares.length;
  }

  stats(): SparePoolStats {
    return { ...this.counts };
  }

  /** Drops every spare and prepares no more. */
  close(): void {
    this.closed = true;
    this.dropWhere(() => true);
  }

  private readonly gaugeEnd = (): void => this.options.gauge?.end();

  /** Starts preparing one spare if one is wanted; its preparation, or undefined. */
  private fill(): Promise<T> | undefined {
    const limit = this.wantedLimit;
    if (limit === undefined || this.closed) return undefined;
    this.dropOtherLimits(limit);
    if (this.spares.length >= this.capacity) return undefined;
    if (this.availableMemory() < this.minAvailableMemoryBytes) return undefined;
    const instance = this.options.prepare(limit);
    // A failure surfaces in take(), which then prepares again; never as an unhandled rejection.
    instance.catch(() => undefined);
    this.spares.push({ memoryLimitBytes: limit, instance });
    this.counts.prepared++;
    // One preparation per turn of the event loop, so a request arriving meanwhile is not held up by many.
    if (this.spares.length < this.capacity) this.refill(limit);
    return instance;
  }

  private dropOtherLimits(memoryLimitBytes: number): void {
    this.dropWhere((spare) => spare.memoryLimitBytes !== memoryLimitBytes);
  }

  private dropWhere(predicate: (spare: Spare<T>) => boolean): void {
    const dropped = this.spares.filter(predicate);
    if (dropped.length === 0) return;
    this.spares = this.spares.filter((spare) => !predicate(spare));
    this.counts.dropped += dropped.length;
    const { discard } = this.options;
    for (const spare of dropped) {
      spare.instance.then((instance) => discard?.(instance)).catch(() => undefined);
    }
  }
}

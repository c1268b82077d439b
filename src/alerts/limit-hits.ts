/**
 * "Repeated limit hits from one key": counts refusals (rate limit, concurrency cap) and execution
 * limit outcomes per key, and says when a key reaches `threshold` hits within `windowMs`. After
 * firing, a key stays quiet for one window so a sustained flood yields one alert per window.
 */
import { BoundedMap } from "../throttle/bounded-map.js";

export interface LimitHitOptions {
  readonly threshold: number;
  readonly windowMs: number;
  readonly now?: () => number;
  readonly maxKeys?: number;
}

interface KeyHits {
  times: number[];
  kinds: Map<string, number>;
  quietUntil: number;
}

export class LimitHitTracker {
  private readonly keys: BoundedMap<string, KeyHits>;
  private readonly now: () => number;

  constructor(private readonly options: LimitHitOptions) {
    this.now = options.now ?? Date.now;
    this.keys = new BoundedMap(options.maxKeys ?? 100_000);
  }

  /** Records one hit; returns the hits by kind when this hit crosses the threshold, else undefined. */
  record(key: string, kind: string): Record<string, number> | undefined {
    const now = this.now();
    const state = this.keys.get(key) ?? { times: [], kinds: new Map<string, number>(), quietUntil: 0 };
    if (state.times.length > 0 && (state.times[0] ?? 0) <= now - this.options.windowMs) {
      state.times = state.times.filter((t) => t > now - this.options.windowMs);
      if (state.times.length === 0) state.kinds.clear();
    }
    state.times.push(now);
    if (state.times.length > this.options.threshold) state.times.shift();
    state.kinds.set(kind, (state.kinds.get(kind) ?? 0) + 1);
    let fired: Record<string, number> | undefined;
    if (state.times.length >= this.options.threshold && now >= state.quietUntil) {
      fired = Object.fromEntries(state.kinds);
      state.times = [];
      state.kinds = new Map();
      state.quietUntil = now + this.options.windowMs;
    }
    this.keys.set(key, state);
    return fired;
  }
}

/**
 * In which order, and how many at a time, the language runtimes load at start. Each language is
 * usable as soon as its own runtime loaded. CPU of each boot's child process, measured on this
 * 2-core machine (Liftoff-only): python ~0.55-0.7 s, ruby ~0.55-1.1 s (since RubyGems is no longer
 * loaded in ruby_init), bash ~0.95 s (QuickJS evaluating the just-bash bundle); javascript boots
 * nothing.
 *
 * With as many boots at once as cores: ruby and python start immediately, bash as soon as one of
 * their boot processes replied. With the default loader the limit is on the boot processes
 * (boot-process.ts limitBootProcesses) and every load's own imports and compiles start at once.
 * All at once on 2 cores would make every language as late as the last one; one at a time
 * (measured) made python ~0.3 s sooner but ruby ~0.4 s and bash ~1 s later. javascript boots no
 * interpreter (QuickJS needs no snapshot): its load starts at once without taking a place, so python
 * does not wait for it (its ~0.1 s of CPU took 0.8-1.5 s of wall time among the other starts, and
 * python waited that long).
 */
import type { Language } from "../types.js";

export const LOAD_PRIORITY: readonly Language[] = ["javascript", "ruby", "python", "bash"];

/** Loads that boot no interpreter: they start at once and never take one of the concurrent places. */
export const BOOTLESS_LOADS: readonly Language[] = ["javascript"];

/** Loads at once by default: one per core, at least 2 (so the longest load never waits). */
export function defaultLoadConcurrency(cores: number): number {
  return Math.max(2, Math.floor(cores));
}

/** `languages` sorted by LOAD_PRIORITY (unknown ones last, in their given order). */
export function byLoadPriority(languages: readonly Language[]): Language[] {
  const rank = (language: Language) => {
    const index = LOAD_PRIORITY.indexOf(language);
    return index === -1 ? LOAD_PRIORITY.length : index;
  };
  return [...languages].sort((a, b) => rank(a) - rank(b));
}

/**
 * Starts every language's load: BOOTLESS_LOADS at once, the others by runLimited in the given order;
 * returns each language's promise (in the languages' order).
 */
export function startLoads<R>(
  languages: readonly Language[],
  concurrency: number,
  load: (language: Language) => Promise<R>,
): Promise<R>[] {
  const bootless = new Map(languages.filter((l) => BOOTLESS_LOADS.includes(l)).map((l) => [l, load(l)]));
  const booting = languages.filter((language) => !bootless.has(language));
  const limited = runLimited(booting, concurrency, load);
  return languages.map((language) => bootless.get(language) ?? (limited[booting.indexOf(language)] as Promise<R>));
}

/**
 * Runs `task` for every item, in the given order, at most `concurrency` at a time; returns each
 * item's promise (in the items' order). A failed task frees its place like a finished one.
 */
export function runLimited<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
): Promise<R>[] {
  const limit = Math.max(1, Math.floor(concurrency));
  let running = 0;
  const waiting: Array<() => void> = [];
  const next = () => {
    running--;
    waiting.shift()?.();
  };
  return items.map(async (item) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task(item);
    } finally {
      next();
    }
  });
}

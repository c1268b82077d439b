/** Boot functions for boot-process.test.ts, run in the child process. */
export async function describeBoot(label: string): Promise<{ label: string; bytes: Uint8Array; liftoffOnly: boolean }> {
  return { label, bytes: new Uint8Array([1, 2, 3]), liftoffOnly: process.execArgv.includes("--liftoff-only") };
}

export async function failBoot(): Promise<never> {
  throw new Error("the boot failed on purpose");
}

/** When the boot function ran (epoch ms), also appended to the file `path`. */
export async function markBoot(path: string): Promise<number> {
  const { appendFile } = await import("node:fs/promises");
  const now = Date.now();
  await appendFile(path, `${now}\n`);
  return now;
}

/** The child's pid and V8 flags, to tell which child ran a boot. */
export async function bootPid(): Promise<{ pid: number; liftoffOnly: boolean }> {
  return { pid: process.pid, liftoffOnly: process.execArgv.includes("--liftoff-only") };
}

/** A boot whose process dies before it replies. */
export async function exitBoot(): Promise<never> {
  process.exit(3);
}

/** `length` bytes of a known pattern (large replies go through the spill file). */
export async function bigBoot(length: number): Promise<{ bytes: Uint8Array; words: Float64Array; length: number }> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + 3) & 0xff;
  return { bytes, words: new Float64Array([1.5, -2]), length };
}

/** When this boot started and ended (epoch ms) in which child, after waiting `ms`. */
export async function spanBoot(ms: number): Promise<{ start: number; end: number; pid: number }> {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { start, end: Date.now(), pid: process.pid };
}

/**
 * Like bigBoot, after blocking its thread (a boot busy in synchronous code): it creates `started`,
 * then spins until `release` exists, so no event (such as the parent's disconnect) is handled until
 * the test has done what it does while the boot is busy.
 */
export async function busyBigBoot(started: string, release: string, length: number): Promise<{ bytes: Uint8Array }> {
  const { existsSync, writeFileSync } = await import("node:fs");
  writeFileSync(started, "");
  while (!existsSync(release)) {
    // Busy: no event is handled meanwhile.
  }
  return { bytes: new Uint8Array(length).fill(5) };
}

/** Boot functions for boot-process.test.ts, run in the child process. */
export async function describeBoot(label: string): Promise<{ label: string; bytes: Uint8Array; liftoffOnly: boolean }> {
  return { label, bytes: new Uint8Array([1, 2, 3]), liftoffOnly: process.execArgv.includes("--liftoff-only") };
}

export async function failBoot(): Promise<never> {
  throw new Error("the boot failed on purpose");
}

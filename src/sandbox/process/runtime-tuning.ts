/** How ProcessSandbox applies a runtime's optional limit hooks (see ProcessRuntime). */
import type { Limits } from "../limits.js";
import type { ProcessRuntime } from "./runtime.js";

export function addressSpaceFor(runtime: ProcessRuntime, limits: Limits): number {
  const bytes = runtime.addressSpaceBytes?.(limits) ?? limits.memoryLimitBytes;
  return Math.max(bytes, limits.memoryLimitBytes);
}

export function limitEnvFor(runtime: ProcessRuntime, limits: Limits): Readonly<Record<string, string>> {
  return runtime.limitEnv?.(limits) ?? {};
}

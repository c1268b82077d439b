/** The real interpreters ProcessSandbox (and, for tests, NoopSandbox) can run. */
import type { TunedProcessRuntime } from "../src/sandbox/process/runtime-tuning.js";
import { bashProcessRuntime } from "./bash/process.js";
import { javascriptProcessRuntime } from "./javascript/process.js";
import { pythonProcessRuntime } from "./python/process.js";

export const PROCESS_RUNTIMES: readonly TunedProcessRuntime[] = [
  javascriptProcessRuntime,
  pythonProcessRuntime,
  bashProcessRuntime,
];

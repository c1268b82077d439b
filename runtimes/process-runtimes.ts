/** The real interpreters ProcessSandbox (and, for tests, NoopSandbox) can run. */
import type { ProcessRuntime } from "../src/sandbox/process/runtime.js";
import { bashProcessRuntime } from "./bash/process.js";
import { javascriptProcessRuntime } from "./javascript/process.js";
import { pythonProcessRuntime } from "./python/process.js";
import { rubyProcessRuntime } from "./ruby/process.js";

export const PROCESS_RUNTIMES: readonly ProcessRuntime[] = [
  javascriptProcessRuntime,
  rubyProcessRuntime,
  pythonProcessRuntime,
  bashProcessRuntime,
];

import { PROCESS_RUNTIMES } from "../../runtimes/process-runtimes.js";
import { ProcessSandbox } from "../../src/sandbox/process/process-sandbox.js";
import { runConformance } from "./sandbox.case.js";

runConformance({
  name: "process",
  create: () => ProcessSandbox.create({ runtimes: PROCESS_RUNTIMES }),
  languages: ["javascript", "ruby", "python", "bash"],
  // V8 caps its heap through --max-old-space-size; below ~128 MiB node spends the run in GC.
  memoryLimitBytes: (language) => (language === "javascript" ? 256 : 64) * 1024 * 1024,
});

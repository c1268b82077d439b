import { silentLogger } from "../../src/logger.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { runConformance } from "./sandbox.case.js";

runConformance({
  name: "wasm",
  create: () => WasmSandbox.create({ logger: silentLogger(), workers: 2 }),
  languages: ["javascript", "ruby", "python", "bash"],
  // Ruby's booted interpreter alone occupies ~70 MiB of linear memory.
  memoryLimitBytes: (language) => (language === "ruby" ? 128 : 64) * 1024 * 1024,
});

import { silentLogger } from "../../src/logger.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { runConformance } from "./sandbox.case.js";

runConformance({
  name: "wasm",
  create: () => WasmSandbox.create({ logger: silentLogger(), workers: 2 }),
  languages: ["javascript"],
});

import { PROCESS_RUNTIMES } from "../../runtimes/process-runtimes.js";
import { silentLogger } from "../../src/logger.js";
import { NoopSandbox } from "../../src/sandbox/noop/noop-sandbox.js";
import { runConformance } from "./sandbox.case.js";

const NO_ISOLATION = "the noop sandbox has no isolation by design: the guest sees the host";

runConformance({
  name: "noop",
  create: () => NoopSandbox.create({ runtimes: PROCESS_RUNTIMES, logger: silentLogger() }),
  languages: ["javascript", "ruby", "python", "bash"],
  memoryLimitBytes: (language) => (language === "javascript" ? 256 : 64) * 1024 * 1024,
  skip: {
    "*.hostFile": NO_ISOLATION,
    "*.network": NO_ISOLATION,
    // leakWrite writes /tmp/leak.txt, which is the host's /tmp here.
    "*.fresh": NO_ISOLATION,
  },
});

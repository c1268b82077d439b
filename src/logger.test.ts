import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const loggerModule = new URL("./logger.ts", import.meta.url).href;

/** Runs `body` in a fresh Node process (with tsx) where `createLogger` is imported; returns its stdout lines. */
async function childLines(body: string): Promise<Array<Record<string, unknown>>> {
  const script = `import { createLogger } from ${JSON.stringify(loggerModule)};\n${body}`;
  const child = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    timeout: 20_000,
  }).catch((error: { stdout?: string; code?: number }) => ({ stdout: error.stdout ?? "", code: error.code }));
  return child.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("createLogger on stdout (batched writes)", () => {
  it("loses no line when the process exits right after logging, and still redacts", async () => {
    const lines = await childLines(
      `const log = createLogger({ level: "info" });
       log.info({ apiKey: "isk_secret" }, "one");
       log.warn("two");
       log.fatal("three");
       process.exit(3);`,
    );
    expect(lines.map((l) => l.msg)).toEqual(["one", "two", "three"]);
    expect(lines[0]?.apiKey).toBe("[redacted]");
  }, 30_000);

  it("writes a line within the flush interval while the process keeps running", async () => {
    const lines = await childLines(
      `const log = createLogger({ level: "info" });
       log.info("early");
       // The line must reach stdout by itself (periodic flush), before anything else happens.
       setTimeout(() => { process.stdout.write('{"msg":"marker"}\\n'); process.exit(0); }, 1_000);`,
    );
    expect(lines.map((l) => l.msg)).toEqual(["early", "marker"]);
  }, 30_000);

  // The process-level guard; batched-stdout.test.ts reproduces the EPIPE loop of sonic-boom 4.2's
  // flushSync itself (a server left running after SIGTERM was caught in it, by strace).
  it("exits promptly when the reader of stdout is gone (no endless retry of EPIPE at exit)", async () => {
    const script = `import { createLogger } from ${JSON.stringify(loggerModule)};
      const log = createLogger({ level: "info" });
      log.info("first");
      setTimeout(() => { for (let i = 0; i < 20; i++) log.info({ i }, "after the reader left"); process.exit(0); }, 1_500);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    // Read the first batch, then close our end: every later write by the child gets EPIPE.
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.stdout.destroy();
    const exited = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 10_000);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    if (exited === null) child.kill("SIGKILL");
    expect(exited).toBe(0);
  }, 30_000);
});

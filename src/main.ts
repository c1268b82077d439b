/**
 * `npm start`: parse configuration, start the server, shut down cleanly on SIGINT/SIGTERM. On a first
 * run with no key configured, the generated API key is printed here, once, to stderr.
 *
 * The wasm sandbox's runtime loader thread starts first, before the rest is even imported: the
 * language runtimes are the long pole of a cold start, and their boots can begin only once that
 * thread runs. Its start (~0.1-0.2 s) then overlaps importing the configuration (zod, ~0.1 s) and the
 * sandboxes; the wasm sandbox always runs, so the thread is never started for nothing. Then the
 * sandboxes start before the HTTP server's modules are imported: importing the rest (Hono, the store,
 * the routes: 0.3-0.6 s on 2 cores) overlaps their loads instead of delaying them.
 */
import { RuntimeLoader } from "./sandbox/wasm/load-runtime.js";
import type { RunningServer } from "./server.js";

const loader = new RuntimeLoader().start();
const [{ KeysFileError }, { ConfigError, loadConfig }, { createLogger }, { createSandboxes }, { SecretsFileError }] =
  await Promise.all([
    import("./auth/keys-file.js"),
    import("./config.js"),
    import("./logger.js"),
    import("./sandbox/factory.js"),
    import("./secrets/vault.js"),
  ]);

function printGeneratedKey(generated: NonNullable<RunningServer["generatedKey"]>): void {
  const rule = "=".repeat(72);
  process.stderr.write(
    [
      rule,
      "inline-sandbox generated an API key for this server (shown only this once):",
      "",
      `  ${generated.key}`,
      "",
      `It is stored with mode 0600 in ${generated.path}. Send it as:`,
      `  Authorization: Bearer ${generated.key}`,
      "Set SANDBOX_API_KEY or SANDBOX_API_KEYS_FILE to use your own keys instead.",
      rule,
      "",
    ].join("\n"),
  );
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`inline-sandbox: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  const sandboxes = createSandboxes(config, logger, { loader });
  sandboxes.catch(() => undefined);
  let server: RunningServer;
  try {
    const { startServer } = await import("./server.js");
    server = await startServer(config, logger, { createSandboxes: () => sandboxes });
  } catch (error) {
    // Nothing serves: stop the loaders and boot processes before exiting.
    await sandboxes.then((started) => started[Symbol.asyncDispose]()).catch(() => undefined);
    if (error instanceof KeysFileError || error instanceof SecretsFileError) {
      process.stderr.write(`inline-sandbox: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (server.generatedKey) printGeneratedKey(server.generatedKey);
  server.ready.catch((error: unknown) => {
    logger.fatal({ err: error }, "could not load the sandboxes");
    process.exit(1);
  });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

await main();

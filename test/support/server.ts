/**
 * Starts the real HTTP server on a random loopback port, with logs captured for assertions.
 * By default the server has one API key (TEST_API_KEY) and `postJson`/`authed` send it; pass
 * `SANDBOX_API_KEY: ""` (or argv `--no-auth`) to start without it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type Config, loadConfig } from "../../src/config.js";
import type { ExecuteResponse } from "../../src/http/schemas.js";
import { createLogger } from "../../src/logger.js";
import { type RunningServer, type ServerDependencies, startServer } from "../../src/server.js";

export const TEST_API_KEY = "test-key-0123456789abcdef";
export const AUTH = { authorization: `Bearer ${TEST_API_KEY}` } as const;

export interface TestServer {
  readonly url: string;
  readonly logs: Array<Record<string, unknown>>;
  readonly generatedKey: RunningServer["generatedKey"];
  close(): Promise<void>;
}

export async function startTestServer(
  env: Record<string, string> = {},
  deps: ServerDependencies = {},
  argv: readonly string[] = [],
): Promise<TestServer> {
  const defaults: Record<string, string> = {
    PORT: "0",
    HOST: "127.0.0.1",
    SANDBOX_WORKERS: "1",
    SANDBOX_GENERATE_API_KEY: "false",
    SANDBOX_RATE_LIMIT_REQUESTS: "100000",
  };
  if (!argv.includes("--no-auth")) defaults.SANDBOX_API_KEY = TEST_API_KEY;
  // Each server gets its own data directory (store, first-run key) unless the test shares one on purpose.
  const ownDataDir =
    env.SANDBOX_DATA_DIR === undefined ? mkdtempSync(join(tmpdir(), "inline-sandbox-test-")) : undefined;
  if (ownDataDir) defaults.SANDBOX_DATA_DIR = ownDataDir;
  const config: Config = loadConfig({ ...defaults, ...env }, argv);
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n")) if (line.trim()) logs.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger({ level: "debug", destination });
  const server = await startServer(config, logger, deps);
  await server.ready;
  return {
    url: server.url,
    logs,
    generatedKey: server.generatedKey,
    async close() {
      await server.close();
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
    },
  };
}

/** Either an execution result or an error envelope: the fields tests read. */
export type ApiBody = Partial<Omit<ExecuteResponse, "error">> & {
  error?: { code: string; message: string; requestId?: string; details?: Array<{ path: string; message: string }> };
};

/** POSTs JSON with the test key (headers may override or blank it). */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...AUTH, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as ApiBody };
}

/** GET with the test key. */
export function authedGet(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers: { ...AUTH, ...headers } });
}

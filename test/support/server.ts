/** Starts the real HTTP server on a random loopback port, with logs captured for assertions. */
import { Writable } from "node:stream";
import { type Config, loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import type { ExecuteResponse } from "../../src/http/schemas.js";
import { type ServerDependencies, startServer } from "../../src/server.js";

export interface TestServer {
  readonly url: string;
  readonly logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startTestServer(
  env: Record<string, string> = {},
  deps: ServerDependencies = {},
): Promise<TestServer> {
  const config: Config = loadConfig({ PORT: "0", HOST: "127.0.0.1", SANDBOX_WORKERS: "1", ...env });
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n")) if (line.trim()) logs.push(JSON.parse(line));
      callback();
    },
  });
  const logger = createLogger({ level: "info", destination });
  const server = await startServer(config, logger, deps);
  await server.ready;
  return { url: server.url, logs, close: () => server.close() };
}

/** Either an execution result or an error envelope: the fields tests read. */
export type ApiBody = Partial<Omit<ExecuteResponse, "error">> & {
  error?: { code: string; message: string; requestId?: string; details?: Array<{ path: string; message: string }> };
};

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as ApiBody };
}

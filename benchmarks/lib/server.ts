/**
 * Spawns the real server (`node dist/src/main.js`) on a free loopback port with a temp data dir and
 * a random API key, waits for /readyz, and talks to it over keep-alive HTTP/1.1.
 *
 * The client is `node:http` with a keep-alive Agent, not Node's fetch: each measured execution is
 * still one request whose whole body is read and parsed, but undici's fetch (WHATWG Request/Response
 * objects, web streams) cost the client about 0.4 ms more per request on this machine, on top of a
 * ~1 ms floor for the whole round trip, and the client shares the cores with the server.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Language } from "../../src/sandbox/types.js";
import { readRssBytes } from "./proc.js";
import { EXPECTED_STDOUT, PRINT_ONE } from "./programs.js";
import { since } from "./stats.js";

export interface ServerOptions {
  readonly mainScript: string;
  readonly workers?: number;
  readonly logLevel: string;
  readonly readyTimeoutMs?: number;
  /** Extra server environment (e.g. `SANDBOX_STORE_SYNC`), applied after the benchmark's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra `node` flags before the script (e.g. `--cpu-prof`), for development tools. */
  readonly nodeArgs?: readonly string[];
  /**
   * When the server counts as ready for this measurement, from a /readyz answer (default: 200, every
   * language loaded); e.g. one language `available` in the body while the others still load.
   */
  readonly readyWhen?: (status: number, body: unknown) => boolean;
}

export interface HttpExecution {
  readonly ok: boolean;
  readonly ms: number;
  /** Why it is not ok, for diagnosis. */
  readonly failure?: string;
  /** The `durationMs` the server reported for the execution. */
  readonly innerMs?: number;
}

interface HttpReply {
  readonly status: number;
  readonly text: string;
}

export class SpawnedServer {
  private exited = false;
  private readonly agent = new Agent({ keepAlive: true });

  private constructor(
    readonly url: string,
    private readonly key: string,
    private readonly child: ChildProcess,
    private readonly dataDir: string,
    readonly logPath: string,
  ) {
    child.once("exit", () => {
      this.exited = true;
    });
  }

  /**
   * Starts the server and resolves once /readyz answers 200; `readyMs` is measured from just before
   * the spawn, so it includes Node's own start.
   */
  static async start(options: ServerOptions): Promise<{ server: SpawnedServer; readyMs: number; started: number }> {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), "inline-sandbox-bench-"));
    const logPath = join(dataDir, "server.log");
    const log = openSync(logPath, "a");
    const key = randomBytes(24).toString("base64url");
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: dataDir,
      HOST: "127.0.0.1",
      PORT: String(port),
      SANDBOX_DATA_DIR: dataDir,
      SANDBOX_API_KEY: key,
      SANDBOX_LOG_LEVEL: options.logLevel,
      // Lifted so the per-key guards do not throttle the benchmark's own single key.
      SANDBOX_RATE_LIMIT_REQUESTS: "1000000",
      SANDBOX_RATE_LIMIT_WINDOW_MS: "1000",
      SANDBOX_MAX_CONCURRENT_PER_KEY: "1024",
      SANDBOX_MAX_QUEUED_PER_KEY: "4096",
      SANDBOX_MAX_QUEUE: "4096",
      ...(options.workers === undefined ? {} : { SANDBOX_WORKERS: String(options.workers) }),
      ...options.env,
    };
    const started = performance.now();
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.mainScript], {
      cwd: dataDir,
      env,
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    const server = new SpawnedServer(`http://127.0.0.1:${port}`, key, child, dataDir, logPath);
    try {
      await server.waitReady(options.readyTimeoutMs ?? 120_000, options.readyWhen ?? ((status) => status === 200));
    } catch (error) {
      await server.stop({ keepLog: true });
      throw error;
    }
    return { server, readyMs: since(started), started };
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("server has no pid");
    return this.child.pid;
  }

  rssBytes(): number {
    return readRssBytes(this.pid);
  }

  /** Asks /readyz when the server's log grew (see ReadyProbeSchedule), until `readyWhen` holds. */
  private async waitReady(timeoutMs: number, readyWhen: (status: number, body: unknown) => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const schedule = new ReadyProbeSchedule();
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`server exited before it was ready: ${this.logTail()}`);
      if (schedule.shouldAsk(this.logSize(), performance.now())) {
        try {
          const reply = await this.send("GET", "/readyz");
          let body: unknown;
          try {
            body = JSON.parse(reply.text);
          } catch {
            body = undefined;
          }
          if (readyWhen(reply.status, body)) return;
        } catch {
          // not listening yet
        }
      }
      await new Promise((resolve) => setTimeout(resolve, ReadyProbeSchedule.CHECK_MS));
    }
    throw new Error(`server not ready after ${timeoutMs} ms: ${this.logTail()}`);
  }

  private logSize(): number {
    try {
      return statSync(this.logPath).size;
    } catch {
      return 0;
    }
  }

  /** The wasm languages the server loaded, and why the others are unavailable. */
  async wasmLanguages(): Promise<{ available: Map<Language, string>; unavailable: Map<Language, string> }> {
    const reply = await this.send("GET", "/v1/runtimes");
    const body = JSON.parse(reply.text) as {
      sandboxes?: Array<{
        kind: string;
        languages: Array<{ language: Language; runtime: { name: string; version: string } }>;
        unavailableLanguages?: Array<{ language: Language; reason: string }>;
      }>;
    };
    const wasm = body.sandboxes?.find((s) => s.kind === "wasm");
    const available = new Map<Language, string>();
    const unavailableLanguages = new Map<Language, string>();
    for (const l of wasm?.languages ?? []) available.set(l.language, `${l.runtime.name} ${l.runtime.version}`);
    for (const l of wasm?.unavailableLanguages ?? []) unavailableLanguages.set(l.language, l.reason);
    return { available, unavailable: unavailableLanguages };
  }

  /**
   * Runs the language's print(1) program (or `code`, which must print the same) on the wasm
   * sandbox; ok only if it printed exactly "1\n".
   */
  async printOne(language: Language, code: string = PRINT_ONE[language]): Promise<HttpExecution> {
    const body = JSON.stringify({ language, code, sandbox: "wasm" });
    const started = performance.now();
    let status = 0;
    let result: { exitCode?: unknown; stdout?: unknown; durationMs?: unknown };
    try {
      const reply = await this.send("POST", "/v1/execute", body);
      status = reply.status;
      result = JSON.parse(reply.text) as typeof result;
    } catch (error) {
      return { ok: false, ms: since(started), failure: error instanceof Error ? error.message : String(error) };
    }
    const ms = since(started);
    if (status === 200 && result.exitCode === 0 && result.stdout === EXPECTED_STDOUT) {
      return typeof result.durationMs === "number" ? { ok: true, ms, innerMs: result.durationMs } : { ok: true, ms };
    }
    return { ok: false, ms, failure: `HTTP ${status} ${JSON.stringify(result).slice(0, 300)}` };
  }

  /** One request with the API key over the keep-alive agent; resolves once the whole body arrived. */
  private send(method: "GET" | "POST", path: string, body?: string): Promise<HttpReply> {
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}${path}`, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  logTail(bytes = 2_000): string {
    try {
      const text = readFileSync(this.logPath, "utf8");
      return text.slice(-bytes);
    } catch {
      return "(no log)";
    }
  }

  async stop(options: { keepLog?: boolean } = {}): Promise<void> {
    this.agent.destroy();
    if (!this.exited) {
      const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (!options.keepLog) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * When a starting server is asked /readyz: when its log grew since the last question (it logs
 * "listening" and each language's "wasm runtime available" at info level), and at least every
 * FALLBACK_MS (a server logging above info). The log's size is read every CHECK_MS, a stat call.
 *
 * Why not a question every 10 ms: each costs the server's main thread and the client (fetch) CPU on
 * the two cores a start is short of, so the probe slowed the start it measured. Alternating default
 * starts, one asking every 10 ms with fetch and one only reading the log (8 pairs, median ms from
 * the spawn to each language's "available" log line): JavaScript 1282 against 1150, Python 1835
 * against 1585, Ruby 1954 against 1784, Bash 2705 against 2502 (Bash later in 7 of 8 pairs).
 */
export class ReadyProbeSchedule {
  static readonly CHECK_MS = 5;
  static readonly FALLBACK_MS = 250;
  private askedAtSize = -1;
  private askedAt = Number.NEGATIVE_INFINITY;

  shouldAsk(logSize: number, now: number): boolean {
    if (logSize === this.askedAtSize && now - this.askedAt < ReadyProbeSchedule.FALLBACK_MS) return false;
    this.askedAtSize = logSize;
    this.askedAt = now;
    return true;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/**
 * Test doubles for egress tests. The rule they enforce: no test opens a connection outside
 * 127.0.0.0/8 or ::1, not even by mistake. Names resolve from a table (never DNS), and the dialer
 * records every attempt and refuses, without connecting, any address that is not loopback; the
 * loopback check here is written independently of src/egress/ranges.ts, so a bug there cannot
 * open a real connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createDialer, type DialerOptions, type DialTarget } from "./dial.js";
import { egressPolicySchema } from "./policy.js";
import type { ResolvedAddress, Resolver } from "./resolve.js";
import { EgressSession, type EgressSessionOptions } from "./session.js";

export function isLoopbackText(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === "::1";
}

export interface GuardedDialer {
  readonly dial: (target: DialTarget, signal: AbortSignal) => ReturnType<ReturnType<typeof createDialer>>;
  /** Every dial attempt, loopback or not. */
  readonly attempts: DialTarget[];
  /** The attempts that were refused (would have left the machine). */
  readonly refused: DialTarget[];
}

export function guardedDialer(options: DialerOptions = {}): GuardedDialer {
  const real = createDialer(options);
  const attempts: DialTarget[] = [];
  const refused: DialTarget[] = [];
  return {
    attempts,
    refused,
    dial: (target, signal) => {
      attempts.push(target);
      if (!isLoopbackText(target.address)) {
        refused.push(target);
        return Promise.reject(new Error(`test guard: refused to dial ${target.address}`));
      }
      return real(target, signal);
    },
  };
}

export interface FakeResolver {
  readonly resolve: Resolver;
  readonly lookups: string[];
}

/** Answers from `table`; a function entry is called per lookup (rebinding); unknown names fail. */
export function fakeResolver(table: Record<string, readonly string[] | (() => readonly string[])>): FakeResolver {
  const lookups: string[] = [];
  return {
    lookups,
    resolve: async (hostname) => {
      lookups.push(hostname);
      const entry = table[hostname];
      if (entry === undefined) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      const texts = typeof entry === "function" ? entry() : entry;
      return texts.map((address): ResolvedAddress => ({ address, family: address.includes(":") ? 6 : 4 }));
    },
  };
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

export interface LocalServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** An HTTP server on 127.0.0.1 only, recording what it receives. */
export async function localServer(handler: Handler): Promise<LocalServer> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestSession {
  readonly session: EgressSession;
  readonly dialer: GuardedDialer;
  readonly resolver: FakeResolver;
}

/** A session whose resolver is a table and whose dialer can only reach loopback. */
export function testSession(
  options: Omit<EgressSessionOptions, "resolver" | "dialer" | "policy"> & {
    /** Parsed with egressPolicySchema here, so literals need no `as const` gymnastics. */
    readonly policy: unknown;
    readonly names?: Record<string, readonly string[] | (() => readonly string[])>;
    readonly dialerOptions?: DialerOptions;
    /** Replaces the table resolver (a resolver that hangs, say); still never real DNS. */
    readonly resolve?: Resolver;
  },
): TestSession {
  const { names, dialerOptions, policy, resolve, ...rest } = options;
  const dialer = guardedDialer(dialerOptions);
  const resolver = fakeResolver(names ?? {});
  const session = new EgressSession({
    approval: "never",
    ...rest,
    policy: egressPolicySchema.parse(policy),
    resolver: resolve ?? resolver.resolve,
    dialer: dialer.dial,
  });
  return { session, dialer, resolver };
}

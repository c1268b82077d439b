/**
 * One HTTP/1.1 exchange over a socket the dialer opened: Node's HTTP client does the framing (on a
 * socket we hand it through `createConnection`, so it never resolves or connects anything itself),
 * with `Connection: close`, the strict parser, a cap on response header bytes and a cap on body
 * bytes that aborts the read the moment it is crossed (and before reading, when `Content-Length`
 * already says too much). The socket is destroyed when the exchange ends, however it ends.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { EgressFailure } from "./errors.js";
import type { HeaderList } from "./headers.js";

const BODYLESS = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);

export interface WireRequest {
  readonly method: string;
  readonly pathAndQuery: string;
  readonly hostHeader: string;
  readonly headers: HeaderList;
  readonly body?: Uint8Array;
}

export interface WireResponse {
  readonly status: number;
  readonly statusText: string;
  readonly rawHeaders: readonly string[];
  readonly body: Uint8Array;
}

export interface ExchangeLimits {
  readonly maxResponseBytes: number;
  readonly maxHeaderBytes: number;
}

function outgoingHeaders(req: WireRequest): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  const names = new Map<string, string>();
  const add = (name: string, value: string) => {
    const key = names.get(name.toLowerCase()) ?? name;
    names.set(name.toLowerCase(), key);
    const existing = out[key];
    out[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  };
  add("Host", req.hostHeader);
  for (const [name, value] of req.headers) add(name, value);
  add("Connection", "close");
  add("Accept-Encoding", "identity");
  if (req.body !== undefined) add("Content-Length", String(req.body.byteLength));
  else if (!BODYLESS.has(req.method)) add("Content-Length", "0");
  return out;
}

export function exchange(
  socket: Duplex,
  req: WireRequest,
  limits: ExchangeLimits,
  signal: AbortSignal,
): Promise<WireResponse> {
  return new Promise<WireResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, response?: WireResponse) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (response) resolve(response);
      else reject(error);
    };
    const onAbort = () => {
      finish(signal.reason);
      client.destroy();
    };

    const client = httpRequest({
      createConnection: () => socket as Socket,
      method: req.method,
      path: req.pathAndQuery,
      headers: outgoingHeaders(req),
      setHost: false,
      maxHeaderSize: limits.maxHeaderBytes,
      insecureHTTPParser: false,
    });
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });

    client.on("error", (error: NodeJS.ErrnoException) => finish(mapTransportError(error)));
    client.on("response", (res: IncomingMessage) => {
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > limits.maxResponseBytes) {
        finish(
          new EgressFailure("EGRESS_TOO_LARGE", `(Content-Length ${declared} > ${limits.maxResponseBytes} bytes)`),
        );
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > limits.maxResponseBytes) {
          finish(new EgressFailure("EGRESS_TOO_LARGE", `(more than ${limits.maxResponseBytes} bytes)`));
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", (error: NodeJS.ErrnoException) => finish(mapTransportError(error)));
      res.on("aborted", () =>
        finish(new EgressFailure("EGRESS_CONNECT_FAILED", "(the connection closed mid-response)")),
      );
      res.on("close", () => finish(new EgressFailure("EGRESS_CONNECT_FAILED", "(the connection closed mid-response)")));
      res.on("end", () => {
        if (!res.complete) {
          finish(new EgressFailure("EGRESS_CONNECT_FAILED", "(the connection closed mid-response)"));
          return;
        }
        finish(undefined, {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? "",
          rawHeaders: res.rawHeaders,
          body: new Uint8Array(Buffer.concat(chunks)),
        });
      });
    });
    client.end(req.body === undefined ? undefined : Buffer.from(req.body));
  });
}

/** Node's transport errors become our codes; their messages are never passed on. */
export function mapTransportError(error: NodeJS.ErrnoException): EgressFailure {
  if (error instanceof EgressFailure) return error;
  const code = typeof error.code === "string" ? error.code : "";
  if (code === "HPE_HEADER_OVERFLOW") return new EgressFailure("EGRESS_TOO_LARGE", "(response headers)");
  if (code.startsWith("HPE_")) return new EgressFailure("EGRESS_PROTOCOL_ERROR");
  if (code.startsWith("ERR_TLS") || code.includes("CERT") || code.startsWith("ERR_SSL")) {
    return new EgressFailure("EGRESS_CONNECT_FAILED", "(TLS verification failed)");
  }
  return new EgressFailure("EGRESS_CONNECT_FAILED");
}

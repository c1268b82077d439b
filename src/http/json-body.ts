/**
 * Reads a JSON request body under a size limit: a Content-Length over the limit is refused before
 * reading; chunked bodies are counted as they arrive.
 *
 * Two ways in, one limit. A request that came through Node's HTTP/1 server with a valid
 * Content-Length within the limit is read whole with `arrayBuffer()`: Node's parser frames the body
 * by that length, so it cannot be longer (the size is still checked after reading).
 * @hono/node-server answers that from the socket directly, without building a web `Request` and its
 * `ReadableStream` (tens of microseconds on Node 20). Anything else (chunked bodies, no Node server
 * underneath) goes through the stream reader and is counted chunk by chunk.
 */
import type { Context } from "hono";
import { ServiceError } from "../errors.js";
import type { AppEnv } from "./types.js";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const DECIMAL = /^\d{1,15}$/;
/** Stateless between calls (no `stream` option), so one decoder serves every request. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

export async function readJsonBody(c: Context<AppEnv>, limitBytes: number): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(type)) throw new ServiceError("UNSUPPORTED_MEDIA_TYPE");
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  const framed = declared !== undefined && DECIMAL.test(declared) && isNodeHttp1(c);
  const bytes = framed ? await readFramed(c) : await readStreamed(c, limitBytes);
  if (bytes.byteLength > limitBytes) throw tooLarge(limitBytes);
  if (bytes.byteLength === 0) throw new ServiceError("MALFORMED_JSON", "the request body is empty");
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new ServiceError("MALFORMED_JSON", "the request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ServiceError("MALFORMED_JSON");
  }
}

/** Served by Node's HTTP/1 server, whose parser never delivers more body than Content-Length says. */
function isNodeHttp1(c: Context<AppEnv>): boolean {
  const incoming = c.env?.incoming;
  return incoming !== undefined && incoming.httpVersionMajor === 1;
}

async function readFramed(c: Context<AppEnv>): Promise<Uint8Array> {
  return new Uint8Array(await c.req.raw.arrayBuffer());
}

async function readStreamed(c: Context<AppEnv>, limitBytes: number): Promise<Uint8Array> {
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limitBytes);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
}

function tooLarge(limitBytes: number): ServiceError {
  return new ServiceError("PAYLOAD_TOO_LARGE", `the request body exceeds the limit of ${limitBytes} bytes`);
}

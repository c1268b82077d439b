/**
 * Reads a JSON request body with the size limit enforced while streaming (a Content-Length over the
 * limit is refused before reading; chunked bodies are counted as they arrive).
 */
import type { Context } from "hono";
import { ServiceError } from "../errors.js";
import type { AppEnv } from "./types.js";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export async function readJsonBody(c: Context<AppEnv>, limitBytes: number): Promise<unknown> {
  const type = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(type)) throw new ServiceError("UNSUPPORTED_MEDIA_TYPE");
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  const body = c.req.raw.body;
  if (!body) throw new ServiceError("MALFORMED_JSON", "the request body is empty");
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
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new ServiceError("MALFORMED_JSON", "the request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ServiceError("MALFORMED_JSON");
  }
}

function tooLarge(limitBytes: number): ServiceError {
  return new ServiceError("PAYLOAD_TOO_LARGE", `the request body exceeds the limit of ${limitBytes} bytes`);
}

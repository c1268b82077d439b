/**
 * Content decoding, only where redaction needs it. The host asks every server for `identity`; a
 * server may answer compressed anyway, and a compressed echo of a credential would slip past
 * redaction. So when a call carries a credential, an encoded response (gzip, deflate, br, in the
 * order the header lists) is decoded here, under the same byte cap as the wire body, and handed on
 * without `Content-Encoding`; an encoding we cannot decode is refused. Calls without a credential
 * pass bodies through as they came.
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { EgressFailure } from "./errors.js";
import type { WireResponse } from "./transport.js";

function decodeOne(encoding: string, body: Buffer, maxBytes: number): Buffer {
  const options = { maxOutputLength: maxBytes };
  switch (encoding) {
    case "gzip":
    case "x-gzip":
      return gunzipSync(body, options);
    case "deflate":
      try {
        return inflateSync(body, options);
      } catch (error) {
        if (error instanceof RangeError) throw error;
        return inflateRawSync(body, options);
      }
    case "br":
      return brotliDecompressSync(body, options);
    case "identity":
      return body;
    default:
      throw new EgressFailure(
        "EGRESS_PROTOCOL_ERROR",
        `(the response is ${encoding.slice(0, 32)}-encoded and the request carried a credential)`,
      );
  }
}

export function decodeForRedaction(wire: WireResponse, maxBytes: number): WireResponse {
  const encodings: string[] = [];
  const rawHeaders: string[] = [];
  for (let i = 0; i + 1 < wire.rawHeaders.length; i += 2) {
    const name = wire.rawHeaders[i] ?? "";
    const value = wire.rawHeaders[i + 1] ?? "";
    if (name.toLowerCase() === "content-encoding") {
      encodings.push(
        ...value
          .split(",")
          .map((e) => e.trim().toLowerCase())
          .filter((e) => e !== ""),
      );
      continue;
    }
    rawHeaders.push(name, value);
  }
  if (encodings.every((e) => e === "identity")) return wire;
  let body: Buffer = Buffer.from(wire.body);
  try {
    for (const encoding of encodings.reverse()) body = decodeOne(encoding, body, maxBytes);
  } catch (error) {
    if (error instanceof EgressFailure) throw error;
    if (error instanceof RangeError)
      throw new EgressFailure("EGRESS_TOO_LARGE", `(decoded, more than ${maxBytes} bytes)`);
    throw new EgressFailure("EGRESS_PROTOCOL_ERROR", "(the response body does not match its Content-Encoding)");
  }
  const withoutLength: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== "content-length")
      withoutLength.push(rawHeaders[i] ?? "", rawHeaders[i + 1] ?? "");
  }
  return { ...wire, rawHeaders: withoutLength, body: new Uint8Array(body) };
}

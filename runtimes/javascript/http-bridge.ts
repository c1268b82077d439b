/**
 * The host side of the guest's `fetch` (prelude-fetch.ts): `__host.http(method, url, headersJson,
 * body, redirect)`. It reads only primitives and one ArrayBuffer from the guest, checks every one
 * of them again (the guest can tamper with what its own prelude passes), calls `RunContext.http`
 * synchronously and answers with one new ArrayBuffer: u32 little-endian length, JSON metadata,
 * body bytes. It never sets a property on a guest object and never lets a host error reach the
 * guest: malformed input is answered with EGRESS_INVALID_REQUEST without calling the host, and a
 * failure of the host call (a limit hit such as TIMEOUT while waiting) stops the guest.
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import {
  type GuestHeaderList,
  type GuestHttpReply,
  type GuestHttpRequest,
  isGuestHeaderList,
  MAX_GUEST_REQUEST_BODY_BYTES,
  MAX_GUEST_URL_LENGTH,
} from "../../src/sandbox/host-call.js";

/** Longest method name accepted (HTTP has no limit; ours is generous). */
const MAX_METHOD_LENGTH = 64;
/** Cap on the header list's JSON text; the host's egress layer applies its own limits after this. */
const MAX_HEADERS_JSON_CHARS = 1024 * 1024;

type Refusal = Extract<GuestHttpReply, { ok: false }>;

/** The answer to a request made after the execution was told to stop, or cut short by it. */
export const ABORTED_REPLY: Refusal = Object.freeze({
  ok: false,
  code: "EGRESS_ABORTED",
  message: "The execution ended while the request was in flight.",
});

export interface HttpBridgeTarget {
  http(request: GuestHttpRequest): GuestHttpReply;
  /** A host failure during the call: the runner stops the guest at its next interrupt check. */
  onLimit(error: unknown): void;
}

export function httpCall(
  context: QuickJSContext,
  target: HttpBridgeTarget,
  args: readonly (QuickJSHandle | undefined)[],
): QuickJSHandle {
  const request = readRequest(context, args);
  if (typeof request === "string") {
    return encodeReply(context, { ok: false, code: "EGRESS_INVALID_REQUEST", message: request });
  }
  let reply: GuestHttpReply;
  try {
    reply = target.http(request);
  } catch (error) {
    target.onLimit(error);
    reply = ABORTED_REPLY;
  }
  return encodeReply(context, reply);
}

/** The request, or the reason it is malformed. Reads each handle only after checking its type. */
function readRequest(
  context: QuickJSContext,
  [methodH, urlH, headersH, bodyH, redirectH]: readonly (QuickJSHandle | undefined)[],
): GuestHttpRequest | string {
  const string = (h: QuickJSHandle | undefined): string | undefined =>
    h !== undefined && context.typeof(h) === "string" ? context.getString(h) : undefined;
  const method = string(methodH);
  if (method === undefined || method.length === 0 || method.length > MAX_METHOD_LENGTH) return "invalid method";
  const url = string(urlH);
  if (url === undefined || url.length > MAX_GUEST_URL_LENGTH) return "invalid url";
  const redirect = string(redirectH);
  if (redirect !== "follow" && redirect !== "manual") return "invalid redirect mode";
  const headersJson = string(headersH);
  if (headersJson === undefined || headersJson.length > MAX_HEADERS_JSON_CHARS) return "invalid headers";
  const headers = parseHeaders(headersJson);
  if (headers === undefined) return "invalid headers";
  const body = readBody(context, bodyH);
  if (typeof body === "string") return body;
  return body === undefined ? { method, url, headers, redirect } : { method, url, headers, body, redirect };
}

function parseHeaders(json: string): GuestHeaderList | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  return isGuestHeaderList(parsed) ? parsed.map(([name, value]) => [name, value]) : undefined;
}

function readBody(context: QuickJSContext, h: QuickJSHandle | undefined): Uint8Array | undefined | string {
  if (h === undefined) return undefined;
  const kind = context.typeof(h);
  if (kind === "undefined") return undefined;
  if (kind !== "object") return "invalid body";
  let bytes: Uint8Array;
  try {
    // Throws (inside and outside QuickJS) for anything but an ArrayBuffer.
    bytes = context.getArrayBuffer(h).consume((view) => view.value.slice());
  } catch {
    return "invalid body";
  }
  if (bytes.byteLength > MAX_GUEST_REQUEST_BODY_BYTES) return "the body is too large";
  return bytes;
}

const utf8 = new TextEncoder();

function encodeReply(context: QuickJSContext, reply: GuestHttpReply): QuickJSHandle {
  const meta = reply.ok
    ? {
        ok: true,
        status: reply.status,
        statusText: reply.statusText,
        headers: reply.headers,
        url: reply.url,
        redirected: reply.redirected,
      }
    : { ok: false, code: reply.code, message: reply.message };
  const metaBytes = utf8.encode(JSON.stringify(meta));
  const body = reply.ok ? reply.body : new Uint8Array(0);
  const out = new Uint8Array(4 + metaBytes.byteLength + body.byteLength);
  new DataView(out.buffer).setUint32(0, metaBytes.byteLength, true);
  out.set(metaBytes, 4);
  out.set(body, 4 + metaBytes.byteLength);
  return context.newArrayBuffer(out.buffer);
}

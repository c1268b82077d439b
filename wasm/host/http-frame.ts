/**
 * The wire format of the HTTP host-call device (http-device.ts), shared by every guest binding
 * (Python `sandbox.http`, Ruby `Sandbox::HTTP`). One frame each way, a JSON head line then raw bytes:
 *
 *   request  {"method","url","headers":[[name,value],...],"redirect":"follow"|"manual","bodyLength":n|null}\n
 *            followed by exactly n body bytes (`null`: no body at all, not even an empty one)
 *   reply    {"ok":true,"status","statusText","headers","url","redirected","bodyLength":n}\n + n bytes
 *            or {"ok":false,"code","message"}\n
 *
 * The request parser is strict and bounded: anything that is not exactly one well-formed frame
 * within the caps is refused with an EGRESS_INVALID_REQUEST reply (data, never an exception), so a
 * guest that writes garbage gets an error in its own language and the host is never called.
 */
import {
  type GuestHeaderList,
  type GuestHttpReply,
  type GuestHttpRequest,
  isGuestHeaderList,
  MAX_GUEST_REQUEST_BODY_BYTES,
  MAX_GUEST_URL_LENGTH,
} from "../../src/sandbox/host-call.js";

/** Longest request head line, newline excluded (URL, headers and JSON escaping fit well inside). */
export const MAX_REQUEST_HEAD_BYTES = 256 * 1024;
/** Most header pairs one request head may carry (the host then applies its own, lower cap). */
export const MAX_FRAME_HEADERS = 256;
export const MAX_METHOD_LENGTH = 64;
/** The largest request frame a device channel buffers. */
export const MAX_REQUEST_FRAME_BYTES = MAX_REQUEST_HEAD_BYTES + 1 + MAX_GUEST_REQUEST_BODY_BYTES;

const NEWLINE = 0x0a;
const HEAD_KEYS: ReadonlySet<string> = new Set(["method", "url", "headers", "redirect", "bodyLength"]);

export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly headers: GuestHeaderList;
  readonly redirect: "follow" | "manual";
  /** null: the request has no body. */
  readonly bodyLength: number | null;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** The refusal a malformed frame gets. */
export function invalidRequestReply(reason: string): GuestHttpReply {
  return { ok: false, code: "EGRESS_INVALID_REQUEST", message: `The request is malformed: ${reason}.` };
}

/** Index of the head's newline, or -1 when `bytes` does not hold one yet. */
export function headEnd(bytes: Uint8Array): number {
  return bytes.indexOf(NEWLINE);
}

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** Parse and check a request head line (without its newline). */
export function parseRequestHead(line: Uint8Array): Parsed<RequestHead> {
  if (line.byteLength > MAX_REQUEST_HEAD_BYTES) return fail(`the head is longer than ${MAX_REQUEST_HEAD_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(line));
  } catch {
    return fail("the head is not UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("the head is not an object");
  const head = value as Record<string, unknown>;
  for (const key of Object.keys(head)) if (!HEAD_KEYS.has(key)) return fail(`unknown field ${JSON.stringify(key)}`);
  const { method, url, headers, redirect, bodyLength } = head;
  if (typeof method !== "string" || method.length === 0 || method.length > MAX_METHOD_LENGTH) {
    return fail(`the method must be a string of 1 to ${MAX_METHOD_LENGTH} characters`);
  }
  if (typeof url !== "string" || url.length === 0 || url.length > MAX_GUEST_URL_LENGTH) {
    return fail(`the URL must be a string of 1 to ${MAX_GUEST_URL_LENGTH} characters`);
  }
  if (!isGuestHeaderList(headers)) return fail("headers must be a list of [name, value] string pairs");
  if (headers.length > MAX_FRAME_HEADERS) return fail(`more than ${MAX_FRAME_HEADERS} headers`);
  if (redirect !== "follow" && redirect !== "manual") return fail('redirect must be "follow" or "manual"');
  if (
    bodyLength !== null &&
    !(
      Number.isSafeInteger(bodyLength) &&
      (bodyLength as number) >= 0 &&
      (bodyLength as number) <= MAX_GUEST_REQUEST_BODY_BYTES
    )
  ) {
    return fail(`bodyLength must be null or an integer from 0 to ${MAX_GUEST_REQUEST_BODY_BYTES}`);
  }
  return {
    ok: true,
    value: {
      method,
      url,
      headers: headers.map(([name, v]) => [name, v]),
      redirect,
      bodyLength: bodyLength as number | null,
    },
  };
}

/** Parse one complete request frame: a valid head and exactly `bodyLength` bytes after it. */
export function parseRequestFrame(frame: Uint8Array): Parsed<GuestHttpRequest> {
  if (frame.byteLength > MAX_REQUEST_FRAME_BYTES) return fail("the frame is too large");
  const end = headEnd(frame);
  if (end < 0) return fail(frame.byteLength === 0 ? "nothing was written" : "the head line is not terminated");
  const head = parseRequestHead(frame.subarray(0, end));
  if (!head.ok) return head;
  const body = frame.subarray(end + 1);
  const expected = head.value.bodyLength ?? 0;
  if (body.byteLength < expected) return fail(`the body is truncated (${body.byteLength} of ${expected} bytes)`);
  if (body.byteLength > expected) return fail(`${body.byteLength - expected} bytes follow the body`);
  const { method, url, headers, redirect } = head.value;
  return {
    ok: true,
    value: { method, url, headers, redirect, ...(head.value.bodyLength === null ? {} : { body: body.slice() }) },
  };
}

function concat(head: string, body: Uint8Array | undefined): Uint8Array {
  const headBytes = new TextEncoder().encode(`${head}\n`);
  const out = new Uint8Array(headBytes.byteLength + (body?.byteLength ?? 0));
  out.set(headBytes);
  if (body) out.set(body, headBytes.byteLength);
  return out;
}

/** The request frame a binding writes (the guests build it themselves; this is the reference form). */
export function serializeRequestFrame(request: GuestHttpRequest): Uint8Array {
  const head = {
    method: request.method,
    url: request.url,
    headers: request.headers,
    redirect: request.redirect,
    bodyLength: request.body === undefined ? null : request.body.byteLength,
  };
  return concat(JSON.stringify(head), request.body);
}

/** The reply frame the device serves back. */
export function serializeReplyFrame(reply: GuestHttpReply): Uint8Array {
  if (!reply.ok) return concat(JSON.stringify({ ok: false, code: reply.code, message: reply.message }), undefined);
  const head = {
    ok: true,
    status: reply.status,
    statusText: reply.statusText,
    headers: reply.headers,
    url: reply.url,
    redirected: reply.redirected,
    bodyLength: reply.body.byteLength,
  };
  return concat(JSON.stringify(head), reply.body);
}

/** Parse a reply frame (what the guest bindings do; used by host-side tests). */
export function parseReplyFrame(frame: Uint8Array): Parsed<GuestHttpReply> {
  const end = headEnd(frame);
  if (end < 0) return fail("the head line is not terminated");
  let head: Record<string, unknown>;
  try {
    head = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(frame.subarray(0, end)));
  } catch {
    return fail("the head is not UTF-8 JSON");
  }
  const body = frame.subarray(end + 1);
  if (head.ok === false && typeof head.code === "string" && typeof head.message === "string") {
    return body.byteLength === 0
      ? { ok: true, value: { ok: false, code: head.code, message: head.message } }
      : fail("bytes follow a refusal");
  }
  const { status, statusText, headers, url, redirected, bodyLength } = head;
  if (
    head.ok !== true ||
    typeof status !== "number" ||
    typeof statusText !== "string" ||
    !isGuestHeaderList(headers) ||
    typeof url !== "string" ||
    typeof redirected !== "boolean" ||
    bodyLength !== body.byteLength
  ) {
    return fail("not a reply frame");
  }
  return { ok: true, value: { ok: true, status, statusText, headers, url, redirected, body: body.slice() } };
}

/**
 * Header hygiene on both sides of the host.
 *
 * Request: the guest's headers are validated (RFC 9110 names, no CR/LF/NUL in values, bounded count
 * and size), then stripped of what the transport owns (`Host`, `Content-Length`, hop-by-hop headers,
 * `Proxy-*`, `Expect`, anything a `Connection` header names), of forwarding headers a guest could
 * use to impersonate a client (`Forwarded`, `X-Forwarded-*`, `Via`), and of correlation headers the
 * host sets itself (`X-Request-Id`, `traceparent`, `tracestate`). `Accept-Encoding` is the host's
 * too: it asks for `identity`, so what reaches the guest can be checked for credential echoes.
 *
 * Response: cookies (`Set-Cookie`, `Set-Cookie2`) and hop-by-hop headers never reach the guest.
 */
import { HEADER_NAME } from "./policy.js";

export type HeaderList = Array<[string, string]>;
export type GuestHeaders = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;

export const MAX_REQUEST_HEADERS = 100;
export const MAX_HEADER_VALUE_BYTES = 8192;
export const MAX_REQUEST_HEADER_BYTES = 32 * 1024;

const HOP_BY_HOP = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "http2-settings"];

const REQUEST_DROPPED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  "host",
  "content-length",
  "expect",
  "forwarded",
  "via",
  "x-request-id",
  "traceparent",
  "tracestate",
  "accept-encoding",
]);

const RESPONSE_DROPPED: ReadonlySet<string> = new Set([...HOP_BY_HOP, "set-cookie", "set-cookie2"]);

/** Headers that identify the guest to an origin; dropped when a redirect changes the origin. */
const ORIGIN_BOUND = new Set(["authorization", "cookie", "proxy-authorization"]);
/** Headers that describe a body; dropped when a redirect turns the request into a bodiless GET. */
const BODY_BOUND = new Set(["content-type", "content-encoding", "content-language", "content-location"]);

export type HeaderResult =
  | { readonly ok: true; readonly headers: HeaderList }
  | { readonly ok: false; readonly reason: string };

/** Validates the guest's headers and removes the ones the host owns. */
export function guestRequestHeaders(input: GuestHeaders | undefined): HeaderResult {
  if (input !== undefined && (typeof input !== "object" || input === null)) {
    return { ok: false, reason: "headers must be an object or a list of pairs" };
  }
  const raw: unknown[] = input === undefined ? [] : Array.isArray(input) ? [...input] : Object.entries(input);
  if (!raw.every((e) => Array.isArray(e) && e.length === 2)) {
    return { ok: false, reason: "headers must be an object or a list of pairs" };
  }
  const entries = raw as Array<readonly [string, string]>;
  if (entries.length > MAX_REQUEST_HEADERS) return { ok: false, reason: `more than ${MAX_REQUEST_HEADERS} headers` };
  let total = 0;
  const named = new Set<string>();
  for (const [name, value] of entries) {
    if (typeof name !== "string" || !HEADER_NAME.test(name))
      return { ok: false, reason: "a header name is not a token" };
    if (typeof value !== "string" || /[\r\n\0]/.test(value)) {
      return { ok: false, reason: `the value of header ${name} contains a forbidden character` };
    }
    const size = Buffer.byteLength(name) + Buffer.byteLength(value);
    if (Buffer.byteLength(value) > MAX_HEADER_VALUE_BYTES) return { ok: false, reason: `header ${name} is too long` };
    total += size;
    if (name.toLowerCase() === "connection") {
      for (const token of value.split(",")) named.add(token.trim().toLowerCase());
    }
  }
  if (total > MAX_REQUEST_HEADER_BYTES) return { ok: false, reason: "the headers are too large" };
  const headers: HeaderList = [];
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (REQUEST_DROPPED.has(lower) || lower.startsWith("proxy-") || lower.startsWith("x-forwarded-")) continue;
    if (named.has(lower)) continue;
    headers.push([name, value.trim()]);
  }
  return { ok: true, headers };
}

export function withoutHeaders(headers: HeaderList, names: ReadonlySet<string>): HeaderList {
  return headers.filter(([name]) => !names.has(name.toLowerCase()));
}

/** Headers for the next hop of a redirect. */
export function redirectHeaders(headers: HeaderList, crossOrigin: boolean, dropBody: boolean): HeaderList {
  let next = headers;
  if (crossOrigin) next = withoutHeaders(next, ORIGIN_BOUND);
  if (dropBody) next = withoutHeaders(next, BODY_BOUND);
  return next;
}

/** Sets `name` to `value`, replacing any same-named header (case-insensitive). */
export function setHeader(headers: HeaderList, name: string, value: string): HeaderList {
  return [...withoutHeaders(headers, new Set([name.toLowerCase()])), [name, value]];
}

/** The response headers the guest may see, from Node's `rawHeaders` (name, value, name, value...). */
export function guestResponseHeaders(raw: readonly string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (RESPONSE_DROPPED.has(lower) || lower.startsWith("proxy-")) continue;
    out.push([name, raw[i + 1] ?? ""]);
  }
  return out;
}

export function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

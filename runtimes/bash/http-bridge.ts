/**
 * The host's side of the bash guest's HTTP requests (guest/host-http.ts). The guest never calls
 * out: when the driver's state is "http", the pump calls `serveHttp`, which reads the waiting
 * request (JSON + body bytes), checks it again, asks `RunContext.http` (synchronous; it may block
 * for a long time while a human approves) and hands the answer back. Malformed requests are
 * answered with EGRESS_INVALID_REQUEST without asking the host. A GuestLimitError thrown by the
 * host call (the execution was cancelled while waiting) propagates to the pump.
 */
import {
  type GuestHeaderList,
  type GuestHttpReply,
  type GuestHttpRequest,
  isGuestHeaderList,
  MAX_GUEST_REQUEST_BODY_BYTES,
  MAX_GUEST_URL_LENGTH,
} from "../../src/sandbox/host-call.js";
import type { GuestApi } from "./guest-api.js";

export type HostHttp = (request: GuestHttpRequest) => GuestHttpReply;

const MAX_METHOD_LENGTH = 64;

export function serveHttp(api: GuestApi, http: HostHttp): void {
  const request = readRequest(api.httpRequest(), api.httpBody());
  const reply: GuestHttpReply =
    typeof request === "string" ? { ok: false, code: "EGRESS_INVALID_REQUEST", message: request } : http(request);
  if (reply.ok) {
    const { status, statusText, headers, url, redirected } = reply;
    api.httpReply(JSON.stringify({ ok: true, status, statusText, headers, url, redirected }), reply.body);
  } else {
    api.httpReply(JSON.stringify({ ok: false, code: reply.code, message: reply.message }), new Uint8Array(0));
  }
}

/** The request, or why it is malformed. */
export function readRequest(json: string, body: Uint8Array): GuestHttpRequest | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return "the request is not valid JSON";
  }
  if (typeof parsed !== "object" || parsed === null) return "the request is not an object";
  const { method, url, headers, redirect, hasBody } = parsed as Record<string, unknown>;
  if (typeof method !== "string" || method.length === 0 || method.length > MAX_METHOD_LENGTH) return "invalid method";
  if (typeof url !== "string" || url.length > MAX_GUEST_URL_LENGTH) return "invalid url";
  if (redirect !== "follow" && redirect !== "manual") return "invalid redirect mode";
  if (!isGuestHeaderList(headers)) return "invalid headers";
  const headerList: GuestHeaderList = headers.map(([name, value]) => [name, value]);
  if (body.byteLength > MAX_GUEST_REQUEST_BODY_BYTES) return "the body is too large";
  const base = { method, url, headers: headerList, redirect } as const;
  return hasBody === true ? { ...base, body } : base;
}

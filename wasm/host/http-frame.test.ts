import { describe, expect, it } from "vitest";
import type { GuestHttpRequest } from "../../src/sandbox/host-call.js";
import { MAX_GUEST_REQUEST_BODY_BYTES, MAX_GUEST_URL_LENGTH } from "../../src/sandbox/host-call.js";
import {
  MAX_FRAME_HEADERS,
  MAX_REQUEST_HEAD_BYTES,
  parseReplyFrame,
  parseRequestFrame,
  serializeReplyFrame,
  serializeRequestFrame,
} from "./http-frame.js";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const join = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const head = (fields: Record<string, unknown>): Uint8Array => utf8(`${JSON.stringify(fields)}\n`);
const base = { method: "GET", url: "https://example.com/", headers: [], redirect: "follow", bodyLength: null };
const binary = new Uint8Array(256).map((_, i) => i);

function reason(frame: Uint8Array): string {
  const parsed = parseRequestFrame(frame);
  if (parsed.ok) throw new Error("expected the frame to be refused");
  return parsed.reason;
}

describe("request frames", () => {
  it("round-trips a request with headers and a binary body", () => {
    const request: GuestHttpRequest = {
      method: "POST",
      url: "https://example.com/upload?q=é",
      headers: [
        ["Content-Type", "application/octet-stream"],
        ["X-Twice", "1"],
        ["X-Twice", "2"],
      ],
      body: binary,
      redirect: "manual",
    };
    const parsed = parseRequestFrame(serializeRequestFrame(request));
    expect(parsed).toEqual({ ok: true, value: request });
  });

  it("tells no body (null) from an empty body (0)", () => {
    const none = parseRequestFrame(head(base));
    expect(none.ok && "body" in none.value).toBe(false);
    const empty = parseRequestFrame(head({ ...base, method: "POST", bodyLength: 0 }));
    expect(empty.ok && empty.value.body).toEqual(new Uint8Array());
  });

  it("keeps a body holding newlines and a JSON-looking tail intact", () => {
    const body = utf8('\n{"ok":true}\n\n');
    const parsed = parseRequestFrame(join(head({ ...base, method: "PUT", bodyLength: body.byteLength }), body));
    expect(parsed.ok && parsed.value.body).toEqual(body);
  });

  it("refuses garbage instead of throwing", () => {
    expect(reason(new Uint8Array())).toMatch(/nothing was written/);
    expect(reason(utf8("GET / HTTP/1.1\r\n\r\n"))).toMatch(/not UTF-8 JSON/);
    expect(reason(new Uint8Array([0xff, 0xfe, 0x0a]))).toMatch(/not UTF-8 JSON/);
    expect(reason(utf8("[1,2]\n"))).toMatch(/not an object/);
    expect(reason(utf8("null\n"))).toMatch(/not an object/);
    expect(reason(head({ ...base, extra: 1 }))).toMatch(/unknown field "extra"/);
    expect(reason(head({ ...base, method: 7 }))).toMatch(/method/);
    expect(reason(head({ ...base, method: "" }))).toMatch(/method/);
    expect(reason(head({ ...base, url: null }))).toMatch(/URL/);
    expect(reason(head({ ...base, headers: { a: "b" } }))).toMatch(/headers/);
    expect(reason(head({ ...base, headers: [["a", 1]] }))).toMatch(/headers/);
    expect(reason(head({ ...base, headers: [["a", "b", "c"]] }))).toMatch(/headers/);
    expect(reason(head({ ...base, redirect: "error" }))).toMatch(/redirect/);
    expect(reason(head({ ...base, bodyLength: -1 }))).toMatch(/bodyLength/);
    expect(reason(head({ ...base, bodyLength: 1.5 }))).toMatch(/bodyLength/);
    expect(reason(head({ ...base, bodyLength: "3" }))).toMatch(/bodyLength/);
    const { bodyLength: _, ...missing } = base;
    expect(reason(head(missing))).toMatch(/bodyLength/);
  });

  it("refuses truncated frames and trailing bytes", () => {
    expect(reason(utf8(JSON.stringify(base)))).toMatch(/not terminated/);
    expect(reason(join(head({ ...base, method: "POST", bodyLength: 10 }), utf8("short")))).toMatch(/truncated/);
    expect(reason(join(head({ ...base, method: "POST", bodyLength: 2 }), utf8("abc")))).toMatch(/1 bytes follow/);
    expect(reason(join(head(base), utf8("x")))).toMatch(/follow the body/);
  });

  it("enforces the caps", () => {
    expect(reason(head({ ...base, url: `https://a/${"x".repeat(MAX_GUEST_URL_LENGTH)}` }))).toMatch(/URL/);
    expect(reason(head({ ...base, method: "M".repeat(65) }))).toMatch(/method/);
    const many = Array.from({ length: MAX_FRAME_HEADERS + 1 }, (_, i) => [`h${i}`, "v"]);
    expect(reason(head({ ...base, headers: many }))).toMatch(/more than/);
    expect(reason(head({ ...base, bodyLength: MAX_GUEST_REQUEST_BODY_BYTES + 1 }))).toMatch(/bodyLength/);
    const padded = utf8(`{"method":"GET","pad":"${"x".repeat(MAX_REQUEST_HEAD_BYTES)}"}\n`);
    expect(reason(padded)).toMatch(/longer than/);
  });
});

describe("reply frames", () => {
  it("round-trips a response with a binary body", () => {
    const reply = {
      ok: true as const,
      status: 404,
      statusText: "Not Found",
      headers: [["content-type", "application/octet-stream"]] as Array<[string, string]>,
      body: binary,
      url: "https://example.com/final",
      redirected: true,
    };
    const frame = serializeReplyFrame(reply);
    expect(new TextDecoder().decode(frame.subarray(0, frame.indexOf(0x0a)))).toContain('"bodyLength":256');
    expect(parseReplyFrame(frame)).toEqual({ ok: true, value: reply });
  });

  it("serialises a refusal as one line", () => {
    const frame = serializeReplyFrame({ ok: false, code: "EGRESS_DENIED", message: "no" });
    expect(new TextDecoder().decode(frame)).toBe('{"ok":false,"code":"EGRESS_DENIED","message":"no"}\n');
    expect(parseReplyFrame(frame)).toEqual({ ok: true, value: { ok: false, code: "EGRESS_DENIED", message: "no" } });
  });

  it("refuses a reply whose body length does not match", () => {
    const frame = serializeReplyFrame({
      ok: true,
      status: 200,
      statusText: "OK",
      headers: [],
      body: utf8("abc"),
      url: "https://e/",
      redirected: false,
    });
    expect(parseReplyFrame(frame.subarray(0, frame.byteLength - 1)).ok).toBe(false);
  });
});

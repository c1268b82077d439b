import { describe, expect, it } from "vitest";
import { guestRequestHeaders, guestResponseHeaders, redirectHeaders, setHeader } from "./headers.js";

function ok(input: Parameters<typeof guestRequestHeaders>[0]) {
  const result = guestRequestHeaders(input);
  if (!result.ok) throw new Error(result.reason);
  return result.headers;
}

describe("request headers", () => {
  it("drops what the host owns and keeps the rest", () => {
    const kept = ok({
      Host: "169.254.169.254",
      Connection: "keep-alive, X-Secret-Hop",
      "X-Secret-Hop": "1",
      "Keep-Alive": "timeout=5",
      "Transfer-Encoding": "chunked",
      "Content-Length": "999",
      TE: "trailers",
      Trailer: "X",
      Upgrade: "websocket",
      Expect: "100-continue",
      "Proxy-Authorization": "Basic eA==",
      "Proxy-Connection": "keep-alive",
      Forwarded: "for=10.0.0.1",
      "X-Forwarded-For": "10.0.0.1",
      Via: "1.1 proxy",
      "X-Request-Id": "spoofed",
      traceparent: "00-11111111111111111111111111111111-2222222222222222-01",
      tracestate: "x=y",
      "Accept-Encoding": "gzip, br",
      Accept: "application/json",
      "Content-Type": "application/json",
      Authorization: "Bearer guest-own-token",
      "X-Custom": "  yes  ",
    });
    expect(kept).toEqual([
      ["Accept", "application/json"],
      ["Content-Type", "application/json"],
      ["Authorization", "Bearer guest-own-token"],
      ["X-Custom", "yes"],
    ]);
  });

  it("accepts a list of pairs and keeps duplicates", () => {
    expect(
      ok([
        ["Accept", "a"],
        ["accept", "b"],
      ]),
    ).toEqual([
      ["Accept", "a"],
      ["accept", "b"],
    ]);
  });

  it("refuses header injection and oversized headers", () => {
    expect(guestRequestHeaders({ "X-A": "1\r\nHost: evil" }).ok).toBe(false);
    expect(guestRequestHeaders({ "X-A": "1\nx" }).ok).toBe(false);
    expect(guestRequestHeaders({ "X-A": "a\0b" }).ok).toBe(false);
    expect(guestRequestHeaders({ "Bad Name": "1" }).ok).toBe(false);
    expect(guestRequestHeaders({ "Bad:Name": "1" }).ok).toBe(false);
    expect(guestRequestHeaders({ "X-A": "x".repeat(9000) }).ok).toBe(false);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`X-${i}`, "1"]));
    expect(guestRequestHeaders(many).ok).toBe(false);
  });

  it("strips origin-bound headers across origins and body headers when the body goes", () => {
    const headers: Array<[string, string]> = [
      ["Authorization", "Bearer t"],
      ["Cookie", "a=b"],
      ["Content-Type", "text/plain"],
      ["Accept", "*/*"],
    ];
    expect(redirectHeaders(headers, false, false)).toEqual(headers);
    expect(redirectHeaders(headers, true, false).map(([n]) => n)).toEqual(["Content-Type", "Accept"]);
    expect(redirectHeaders(headers, true, true).map(([n]) => n)).toEqual(["Accept"]);
  });

  it("replaces a header case-insensitively", () => {
    expect(setHeader([["authorization", "guest"]], "Authorization", "host")).toEqual([["Authorization", "host"]]);
  });
});

describe("response headers", () => {
  it("never hands cookies or hop-by-hop headers to the guest", () => {
    const raw = [
      "Content-Type",
      "application/json",
      "Set-Cookie",
      "session=abc",
      "set-cookie",
      "other=def",
      "Set-Cookie2",
      "x=1",
      "Connection",
      "close",
      "Transfer-Encoding",
      "chunked",
      "Proxy-Authenticate",
      "Basic",
      "X-Rate-Limit",
      "10",
    ];
    expect(guestResponseHeaders(raw)).toEqual([
      ["Content-Type", "application/json"],
      ["X-Rate-Limit", "10"],
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { formatAddress } from "./address.js";
import { displayUrl, parseEgressUrl, sameOrigin } from "./url.js";

function target(input: string) {
  const result = parseEgressUrl(input);
  if (!result.ok) throw new Error(`refused ${input}: ${result.reason}`);
  return result.target;
}

describe("parseEgressUrl", () => {
  it.each([
    ["http://2130706433/", "127.0.0.1"],
    ["http://0x7f000001/", "127.0.0.1"],
    ["http://0177.0.0.1/", "127.0.0.1"],
    ["http://0x7f.0.0.1/", "127.0.0.1"],
    ["http://127.1/", "127.0.0.1"],
    ["http://127.0.1/", "127.0.0.1"],
    ["http://0/", "0.0.0.0"],
    ["http://127。0。0。1/", "127.0.0.1"],
    ["http://[::ffff:169.254.169.254]/", "::ffff:a9fe:a9fe"],
    ["http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "::ffff:a9fe:a9fe"],
    ["http://[::1]:8080/", "::1"],
    ["http://2852039166/", "169.254.169.254"],
    ["http://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"],
  ])("reads %s as the address %s", (input, address) => {
    const t = target(input);
    expect(t.ip).toBeDefined();
    expect(t.ip && formatAddress(t.ip)).toBe(address);
  });

  it("normalises host names: case, one trailing dot, IDNA, fullwidth letters", () => {
    expect(target("http://API.Example.COM./x").hostname).toBe("api.example.com");
    expect(target("http://bücher.example/").hostname).toBe("xn--bcher-kva.example");
    expect(target("http://ｅxample.com/").hostname).toBe("example.com");
    expect(target("http://api.example.com./x").ip).toBeUndefined();
  });

  it("refuses userinfo instead of reinterpreting it", () => {
    for (const input of [
      "http://api.example.com@evil.example/",
      "http://user:pass@api.example.com/",
      "http://:secret@api.example.com/",
      "http://1.1.1.1 &@2.2.2.2# @3.3.3.3/",
    ]) {
      const result = parseEgressUrl(input);
      expect(result.ok, input).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(/user name or password/);
    }
    // An empty userinfo is dropped by WHATWG itself: nothing is carried, the host is unambiguous.
    expect(target("http://:@api.example.com/").url.href).toBe("http://api.example.com/");
  });

  it("parses backslash tricks the way fetch does: the host is what comes before the backslash", () => {
    expect(target("http://evil.example\\@api.example.com/").hostname).toBe("evil.example");
  });

  it("refuses other schemes, unparsable URLs, empty hosts and port 0", () => {
    for (const input of ["file:///etc/passwd", "ftp://example.com/", "gopher://127.0.0.1:25/", "javascript:alert(1)"]) {
      expect(parseEgressUrl(input).ok, input).toBe(false);
    }
    expect(parseEgressUrl("http://").ok).toBe(false);
    expect(parseEgressUrl("http://1.2.3.4.5/").ok).toBe(false);
    expect(parseEgressUrl("http://example.com:0/").ok).toBe(false);
    expect(parseEgressUrl("").ok).toBe(false);
    expect(parseEgressUrl(`http://example.com/${"a".repeat(9000)}`).ok).toBe(false);
  });

  it("computes the effective port, Host header and request path, and drops the fragment", () => {
    const t = target("https://api.example.com/v1/items?id=7#top");
    expect(t.port).toBe(443);
    expect(t.hostHeader).toBe("api.example.com");
    expect(t.pathAndQuery).toBe("/v1/items?id=7");
    expect(t.url.hash).toBe("");
    const v6 = target("http://[::1]:8080/a");
    expect(v6.hostname).toBe("::1");
    expect(v6.hostHeader).toBe("[::1]:8080");
  });

  it("displays URLs without the query", () => {
    expect(displayUrl(target("https://api.example.com/v1?token=abc"))).toBe("https://api.example.com/v1?…");
    expect(displayUrl(target("http://api.example.com:8080/v1"))).toBe("http://api.example.com:8080/v1");
  });

  it("compares origins on scheme, host and port", () => {
    expect(sameOrigin(target("http://a.example/x"), target("http://A.example./y"))).toBe(true);
    expect(sameOrigin(target("http://a.example/"), target("https://a.example/"))).toBe(false);
    expect(sameOrigin(target("http://a.example/"), target("http://a.example:81/"))).toBe(false);
  });
});

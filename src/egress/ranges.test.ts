import { describe, expect, it } from "vitest";
import { formatAddress, parseAddress } from "./address.js";
import { type AddressCategory, checkAddress, classifyAddress, dialAddress } from "./ranges.js";

function ip(text: string) {
  const parsed = parseAddress(text);
  if (!parsed) throw new Error(`did not parse ${text}`);
  return parsed;
}

const TABLE: ReadonlyArray<readonly [string, AddressCategory]> = [
  ["8.8.8.8", "public"],
  ["93.184.216.34", "public"],
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.254", "private"],
  ["172.32.0.1", "public"],
  ["192.168.1.1", "private"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["169.254.169.254", "metadata"],
  ["169.254.1.1", "link-local"],
  ["100.100.100.200", "metadata"],
  ["100.64.0.1", "cgnat"],
  ["100.127.255.254", "cgnat"],
  ["100.128.0.1", "public"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["255.255.255.255", "broadcast"],
  ["240.0.0.1", "reserved"],
  ["192.0.2.10", "documentation"],
  ["198.51.100.7", "documentation"],
  ["203.0.113.9", "documentation"],
  ["198.18.0.1", "benchmark"],
  ["192.0.0.8", "reserved"],
  ["2606:4700:4700::1111", "public"],
  ["::1", "loopback"],
  ["::", "unspecified"],
  ["fc00::1", "unique-local"],
  ["fd00:ec2::254", "metadata"],
  ["fd12:3456::1", "unique-local"],
  ["fe80::1", "link-local"],
  ["fec0::1", "site-local"],
  ["ff02::1", "multicast"],
  ["2001:db8::1", "documentation"],
  ["3fff::1", "documentation"],
  ["2001:2::1", "benchmark"],
  ["2001::1", "reserved"],
  ["100::1", "reserved"],
  ["::7f00:1", "reserved"],
  ["4000::1", "reserved"],
  ["::ffff:169.254.169.254", "ipv4-mapped"],
  ["::ffff:a9fe:a9fe", "ipv4-mapped"],
  ["::ffff:8.8.8.8", "ipv4-mapped"],
  ["64:ff9b::8.8.8.8", "public"],
  ["64:ff9b::10.0.0.1", "private"],
  ["64:ff9b::169.254.169.254", "metadata"],
  ["2002:0a00:0001::1", "private"],
  ["2002:0808:0808::1", "public"],
];

describe("address classification", () => {
  it.each(TABLE)("%s is %s", (text, category) => {
    expect(classifyAddress(ip(text)).category).toBe(category);
  });

  it("denies every non-public address by default", () => {
    for (const [text, category] of TABLE) {
      expect(checkAddress(ip(text), false).ok).toBe(category === "public");
    }
  });

  it("opens private ranges only with allowPrivate, and never the non-unicast ones", () => {
    expect(checkAddress(ip("127.0.0.1"), true).ok).toBe(true);
    expect(checkAddress(ip("10.0.0.1"), true).ok).toBe(true);
    expect(checkAddress(ip("169.254.169.254"), true).ok).toBe(true);
    for (const never of ["0.0.0.0", "255.255.255.255", "224.0.0.1", "240.0.0.1", "::", "ff02::1", "::ffff:0.0.0.0"]) {
      const verdict = checkAddress(ip(never), true);
      expect(verdict.ok, never).toBe(false);
      if (!verdict.ok) expect(verdict.reason).toContain("never");
    }
  });

  it("names what an IPv4-mapped address carries", () => {
    const verdict = checkAddress(ip("::ffff:a9fe:a9fe"), false);
    expect(verdict.ok).toBe(false);
    expect(verdict.class.embedded).toEqual({ address: "169.254.169.254", category: "metadata" });
    if (!verdict.ok) expect(verdict.reason).toContain("metadata");
  });

  it("dials an IPv4-mapped address as the IPv4 address it carries", () => {
    expect(formatAddress(dialAddress(ip("::ffff:7f00:1")))).toBe("127.0.0.1");
    expect(formatAddress(dialAddress(ip("::1")))).toBe("::1");
  });
});

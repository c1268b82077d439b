import { describe, expect, it } from "vitest";
import { formatAddress, inPrefix, parseAddress, sameAddress } from "./address.js";

function parsed(text: string) {
  const ip = parseAddress(text);
  if (!ip) throw new Error(`did not parse ${text}`);
  return ip;
}

describe("parseAddress", () => {
  it("reads IPv4 and IPv6 text into bytes", () => {
    expect(Array.from(parsed("169.254.169.254").bytes)).toEqual([169, 254, 169, 254]);
    expect(parsed("::1").bytes).toEqual(Uint8Array.from([...Array(15).fill(0), 1]));
    expect(parsed("[::1]").family).toBe(6);
    expect(Array.from(parsed("::ffff:169.254.169.254").bytes.slice(10))).toEqual([0xff, 0xff, 169, 254, 169, 254]);
  });

  it("treats every spelling of one IPv6 address as the same address", () => {
    const forms = ["::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "0:0:0:0:0:ffff:a9fe:a9fe", "[::FFFF:A9FE:A9FE]"];
    const first = parsed(forms[0] ?? "");
    for (const form of forms) expect(sameAddress(parsed(form), first)).toBe(true);
    expect(sameAddress(parsed("::ffff:a9fe:a9fe"), parsed("169.254.169.254"))).toBe(false);
  });

  it("refuses what it cannot read exactly: non-canonical IPv4, zones, names, garbage", () => {
    for (const text of [
      "0177.0.0.1",
      "127.1",
      "2130706433",
      "0x7f000001",
      "fe80::1%eth0",
      "localhost",
      "1::2::3",
      "",
    ]) {
      expect(parseAddress(text)).toBeUndefined();
    }
  });

  it("formats canonically (RFC 5952)", () => {
    expect(formatAddress(parsed("0:0:0:0:0:ffff:a9fe:a9fe"))).toBe("::ffff:a9fe:a9fe");
    expect(formatAddress(parsed("2001:db8:0:0:1:0:0:1"))).toBe("2001:db8::1:0:0:1");
    expect(formatAddress(parsed("fe80:0:0:0:0:0:0:0"))).toBe("fe80::");
    expect(formatAddress(parsed("10.0.0.1"))).toBe("10.0.0.1");
    expect(formatAddress(parsed("1:2:3:4:5:6:7:8"))).toBe("1:2:3:4:5:6:7:8");
  });

  it("matches prefixes on bit boundaries", () => {
    expect(inPrefix(parsed("172.31.255.255"), parsed("172.16.0.0"), 12)).toBe(true);
    expect(inPrefix(parsed("172.32.0.0"), parsed("172.16.0.0"), 12)).toBe(false);
    expect(inPrefix(parsed("fd12::1"), parsed("fc00::"), 7)).toBe(true);
    expect(inPrefix(parsed("fe00::1"), parsed("fc00::"), 7)).toBe(false);
    expect(inPrefix(parsed("10.0.0.1"), parsed("::"), 0)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { ClientAddressResolver, clientKey, normaliseAddress } from "./client-ip.js";

describe("ClientAddressResolver", () => {
  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    const resolver = new ClientAddressResolver(["10.0.0.0/8"]);
    expect(resolver.resolve("203.0.113.9", "1.1.1.1")).toBe("203.0.113.9");
    expect(new ClientAddressResolver([]).resolve("127.0.0.1", "1.1.1.1")).toBe("127.0.0.1");
  });

  it("walks X-Forwarded-For from the right past trusted proxies only", () => {
    const resolver = new ClientAddressResolver(["10.0.0.0/8", "::1"]);
    expect(resolver.resolve("::ffff:10.1.2.3", "6.6.6.6, 198.51.100.7, 10.9.9.9")).toBe("198.51.100.7");
    expect(resolver.resolve("::1", "198.51.100.7")).toBe("198.51.100.7");
    expect(resolver.resolve("10.1.2.3", "not-an-ip, 10.2.2.2")).toBe("10.2.2.2");
    expect(resolver.resolve("10.1.2.3", undefined)).toBe("10.1.2.3");
  });

  it("normalises IPv4-mapped addresses and keys IPv6 clients by /64", () => {
    expect(normaliseAddress("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(clientKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("192.0.2.1")).toBe("192.0.2.1");
  });
});

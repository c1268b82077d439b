/**
 * The client a request comes from. The socket's peer address, unless that peer is a configured
 * trusted proxy: then `X-Forwarded-For` is walked from the right, skipping trusted proxies, and the
 * first address not trusted is the client. A client can prepend anything to the header; only what
 * trusted proxies appended is believed.
 *
 * For lockout and anonymous rate limits, IPv6 clients are keyed by their /64 (one subscriber usually
 * holds a whole /64, so per-address state would be trivially evaded).
 */
import { BlockList, isIP } from "node:net";

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

export function normaliseAddress(address: string): string {
  const trimmed = address.trim().replace(/^\[(.*)\]$/, "$1");
  const mapped = MAPPED_V4.exec(trimmed);
  return mapped ? (mapped[1] as string) : trimmed.toLowerCase();
}

export class ClientAddressResolver {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  constructor(trustedProxies: readonly string[]) {
    for (const entry of trustedProxies) {
      const [address = "", prefix] = entry.split("/");
      const family = isIP(address) === 6 ? "ipv6" : "ipv4";
      if (prefix === undefined) this.trusted.addAddress(address, family);
      else this.trusted.addSubnet(address, Number(prefix), family);
    }
    this.any = trustedProxies.length > 0;
  }

  isTrusted(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    return this.trusted.check(address, family === 6 ? "ipv6" : "ipv4");
  }

  /** The client address for a request from `peer` carrying `forwardedFor`. */
  resolve(peer: string | undefined, forwardedFor: string | undefined): string {
    const remote = peer ? normaliseAddress(peer) : "unknown";
    if (!this.any || forwardedFor === undefined || !this.isTrusted(remote)) return remote;
    let client = remote;
    const hops = forwardedFor.split(",").map(normaliseAddress).reverse();
    for (const hop of hops) {
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!this.isTrusted(hop)) return hop;
    }
    return client;
  }
}

/** The key per-client state is kept under: the address itself for IPv4, the /64 for IPv6. */
export function clientKey(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

function expandIPv6(address: string): string[] {
  let text = address.split("%")[0] ?? address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill("0"), ...right].map((g) =>
    (Number.parseInt(g, 16) || 0).toString(16),
  );
}

/**
 * IP addresses as bytes. Every address decision in egress compares parsed bytes, never strings:
 * `::ffff:169.254.169.254`, `::ffff:a9fe:a9fe` and `0:0:0:0:0:ffff:a9fe:a9fe` are one address.
 *
 * The parser is strict on purpose: it takes the canonical text forms a resolver or the WHATWG URL
 * parser produce (dotted-quad IPv4 without leading zeros, RFC 4291 IPv6 text, with or without
 * brackets). Anything else, including zone ids (`fe80::1%eth0`), is `undefined`, and the caller
 * refuses it: an address we cannot read is an address we cannot check.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6. */
  readonly bytes: Uint8Array;
}

export function parseAddress(text: string): IpAddress | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (isIPv4(bare)) return { family: 4, bytes: parseIPv4(bare) };
  if (isIPv6(bare) && !bare.includes("%")) {
    const bytes = parseIPv6(bare);
    return bytes ? { family: 6, bytes } : undefined;
  }
  return undefined;
}

function parseIPv4(text: string): Uint8Array {
  return Uint8Array.from(text.split(".").map((part) => Number.parseInt(part, 10)));
}

function parseIPv6(text: string): Uint8Array | undefined {
  let head = text;
  let tailV4: Uint8Array | undefined;
  const lastColon = head.lastIndexOf(":");
  const last = head.slice(lastColon + 1);
  if (last.includes(".")) {
    if (!isIPv4(last)) return undefined;
    tailV4 = parseIPv4(last);
    head = `${head.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined) => (part === undefined || part === "" ? [] : part.split(":"));
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...right];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const group = all[i] ?? "";
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  }
  if (tailV4) bytes.set(tailV4, 12);
  return bytes;
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run compressed). */
export function formatAddress(address: IpAddress): string {
  const b = address.bytes;
  if (address.family === 4) return Array.from(b).join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLength).join(":");
  return `${left}::${right}`;
}

/** Whether `address` lies in `prefix/length` (same family only). */
export function inPrefix(address: IpAddress, prefix: IpAddress, length: number): boolean {
  if (address.family !== prefix.family) return false;
  const full = Math.floor(length / 8);
  for (let i = 0; i < full; i++) if (address.bytes[i] !== prefix.bytes[i]) return false;
  const rest = length % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address.bytes[full] ?? 0) & mask) === ((prefix.bytes[full] ?? 0) & mask);
}

export function sameAddress(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.bytes.every((byte, i) => byte === b.bytes[i]);
}

/** The IPv4 address carried in bytes `offset..offset+4` of an IPv6 address. */
export function embeddedIPv4(address: IpAddress, offset: number): IpAddress {
  return { family: 4, bytes: address.bytes.slice(offset, offset + 4) };
}

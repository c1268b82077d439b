/**
 * Special-purpose address ranges (IANA's IPv4 and IPv6 special-purpose registries, RFC 6890 and
 * successors). Egress connects only to `public` addresses, unless a policy rule names the host
 * explicitly with `allowPrivate: true`; even then the `never` ranges (unspecified, multicast,
 * broadcast, reserved) stay closed, since no HTTP server lives there.
 *
 * IPv6 forms that carry an IPv4 address are judged by that address too: IPv4-mapped
 * (`::ffff:0:0/96`, denied as such and by what it carries), NAT64 (`64:ff9b::/96`) and 6to4
 * (`2002::/16`). Everything outside global unicast `2000::/3` that is not listed is reserved.
 */
import { embeddedIPv4, formatAddress, type IpAddress, inPrefix, parseAddress } from "./address.js";

export type AddressCategory =
  | "public"
  | "private"
  | "loopback"
  | "link-local"
  | "metadata"
  | "cgnat"
  | "unique-local"
  | "site-local"
  | "ipv4-mapped"
  | "documentation"
  | "benchmark"
  | "unspecified"
  | "multicast"
  | "broadcast"
  | "reserved";

/** Categories no policy can open: they are not unicast destinations. */
const NEVER: ReadonlySet<AddressCategory> = new Set(["unspecified", "multicast", "broadcast", "reserved"]);

interface Range {
  readonly prefix: IpAddress;
  readonly length: number;
  readonly category: AddressCategory;
}

function range(cidr: string, category: AddressCategory): Range {
  const [text = "", length = ""] = cidr.split("/");
  const prefix = parseAddress(text);
  if (!prefix) throw new Error(`bad range ${cidr}`);
  return { prefix, length: Number(length), category };
}

/** Most specific first: the first match decides. */
const IPV4_RANGES: readonly Range[] = [
  range("255.255.255.255/32", "broadcast"),
  range("169.254.169.254/32", "metadata"),
  range("100.100.100.200/32", "metadata"),
  range("0.0.0.0/8", "unspecified"),
  range("10.0.0.0/8", "private"),
  range("100.64.0.0/10", "cgnat"),
  range("127.0.0.0/8", "loopback"),
  range("169.254.0.0/16", "link-local"),
  range("172.16.0.0/12", "private"),
  range("192.0.0.0/24", "reserved"),
  range("192.0.2.0/24", "documentation"),
  range("192.88.99.0/24", "reserved"),
  range("192.168.0.0/16", "private"),
  range("198.18.0.0/15", "benchmark"),
  range("198.51.100.0/24", "documentation"),
  range("203.0.113.0/24", "documentation"),
  range("224.0.0.0/4", "multicast"),
  range("240.0.0.0/4", "reserved"),
];

const IPV6_RANGES: readonly Range[] = [
  range("::/128", "unspecified"),
  range("::1/128", "loopback"),
  range("fd00:ec2::254/128", "metadata"),
  range("::/96", "reserved"),
  range("64:ff9b:1::/48", "private"),
  range("100::/64", "reserved"),
  range("2001::/32", "reserved"),
  range("2001:2::/48", "benchmark"),
  range("2001:10::/28", "reserved"),
  range("2001:20::/28", "reserved"),
  range("2001:db8::/32", "documentation"),
  range("3fff::/20", "documentation"),
  range("fc00::/7", "unique-local"),
  range("fe80::/10", "link-local"),
  range("fec0::/10", "site-local"),
  range("ff00::/8", "multicast"),
];

const MAPPED = range("::ffff:0:0/96", "ipv4-mapped");
const NAT64 = range("64:ff9b::/96", "public");
const SIX_TO_FOUR = range("2002::/16", "public");
const GLOBAL_UNICAST = range("2000::/3", "public");

export interface AddressClass {
  readonly category: AddressCategory;
  /** For IPv6 forms that carry an IPv4 address: the category of that address. */
  readonly embedded?: { readonly address: string; readonly category: AddressCategory };
  /** Whether a policy rule that names the host with `allowPrivate` may open it. */
  readonly openable: boolean;
}

function lookup(address: IpAddress, ranges: readonly Range[]): AddressCategory | undefined {
  return ranges.find((r) => inPrefix(address, r.prefix, r.length))?.category;
}

function classifyIPv4(address: IpAddress): AddressCategory {
  return lookup(address, IPV4_RANGES) ?? "public";
}

export function classifyAddress(address: IpAddress): AddressClass {
  if (address.family === 4) {
    const category = classifyIPv4(address);
    return { category, openable: !NEVER.has(category) };
  }
  const carried = carriedIPv4(address);
  if (carried) {
    const inner = classifyIPv4(carried.address);
    const embedded = { address: formatAddress(carried.address), category: inner };
    // A mapped address is never public: whatever it carries, it is refused unless named.
    const category: AddressCategory = carried.mapped ? "ipv4-mapped" : inner;
    return { category, embedded, openable: !NEVER.has(inner) };
  }
  const listed = lookup(address, IPV6_RANGES);
  const category = listed ?? (inPrefix(address, GLOBAL_UNICAST.prefix, GLOBAL_UNICAST.length) ? "public" : "reserved");
  return { category, openable: !NEVER.has(category) };
}

function carriedIPv4(address: IpAddress): { address: IpAddress; mapped: boolean } | undefined {
  if (inPrefix(address, MAPPED.prefix, MAPPED.length)) return { address: embeddedIPv4(address, 12), mapped: true };
  if (inPrefix(address, NAT64.prefix, NAT64.length)) return { address: embeddedIPv4(address, 12), mapped: false };
  if (inPrefix(address, SIX_TO_FOUR.prefix, SIX_TO_FOUR.length)) {
    return { address: embeddedIPv4(address, 2), mapped: false };
  }
  return undefined;
}

/**
 * The address to connect to: an IPv4-mapped IPv6 address is dialled as the IPv4 address it carries
 * (that is where the kernel would send it anyway), everything else as itself.
 */
export function dialAddress(address: IpAddress): IpAddress {
  if (address.family === 6 && inPrefix(address, MAPPED.prefix, MAPPED.length)) return embeddedIPv4(address, 12);
  return address;
}

export type AddressVerdict =
  | { readonly ok: true; readonly class: AddressClass }
  | { readonly ok: false; readonly class: AddressClass; readonly reason: string };

/** Whether egress may connect to `address`; `allowPrivate` is the matched rule's explicit opt-in. */
export function checkAddress(address: IpAddress, allowPrivate: boolean): AddressVerdict {
  const cls = classifyAddress(address);
  if (cls.category === "public") return { ok: true, class: cls };
  if (!cls.openable) return { ok: false, class: cls, reason: `${describe(cls)} is never reachable` };
  if (allowPrivate) return { ok: true, class: cls };
  return {
    ok: false,
    class: cls,
    reason: `${describe(cls)} is denied unless a policy rule names the host with allowPrivate`,
  };
}

function describe(cls: AddressClass): string {
  const what = `a ${cls.category} address`;
  if (cls.embedded && cls.category !== cls.embedded.category) return `${what} carrying a ${cls.embedded.category} one`;
  return what;
}

/**
 * The URL a guest asks for, parsed once with the WHATWG parser (the same one `fetch` uses) and
 * normalised before anything compares it:
 *
 * - `http:` and `https:` only; no userinfo (`http://api.example.com@evil.com/` is refused, not
 *   reinterpreted); the fragment is dropped (it never goes on the wire).
 * - The host is what WHATWG makes of it: lowercase, IDNA to ASCII (`bücher` -> `xn--bcher-kva`,
 *   fullwidth letters folded), IPv4 in every spelling to a dotted quad (`2130706433`, `0x7f000001`,
 *   `0177.0.0.1`, `127.1` -> `127.0.0.1`), IPv6 compressed. We then drop one trailing dot and read an
 *   IP literal into bytes, so every later check compares parsed addresses.
 */
import { type IpAddress, parseAddress } from "./address.js";

export interface EgressTarget {
  readonly url: URL;
  readonly scheme: "http" | "https";
  /** Lowercase ASCII host name without trailing dot, or an IP literal without brackets. */
  readonly hostname: string;
  /** The effective port (80/443 when the URL has none). */
  readonly port: number;
  /** Set when the host is an IP literal. */
  readonly ip?: IpAddress;
  /** `Host` header value: hostname (bracketed for IPv6) plus `:port` when not the default. */
  readonly hostHeader: string;
  /** Path and query, as sent in the request line. */
  readonly pathAndQuery: string;
}

export type UrlResult =
  | { readonly ok: true; readonly target: EgressTarget }
  | { readonly ok: false; readonly reason: string };

export const MAX_URL_LENGTH = 8192;

export function parseEgressUrl(input: string, base?: URL): UrlResult {
  if (typeof input !== "string" || input.length === 0) return { ok: false, reason: "the URL is empty" };
  if (input.length > MAX_URL_LENGTH)
    return { ok: false, reason: `the URL is longer than ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    return { ok: false, reason: "the URL cannot be parsed" };
  }
  return targetOf(url);
}

export function targetOf(parsed: URL): UrlResult {
  const url = new URL(parsed.href);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, reason: `the scheme ${url.protocol} is not allowed: http and https only` };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, reason: "the URL carries a user name or password; send credentials in headers" };
  }
  url.hash = "";
  const scheme = url.protocol === "https:" ? "https" : "http";
  let hostname = url.hostname;
  if (hostname.endsWith(".")) hostname = hostname.slice(0, -1);
  if (hostname === "" || hostname.endsWith(".")) return { ok: false, reason: "the URL has no usable host" };
  const bracketed = hostname.startsWith("[");
  const ip = parseAddress(hostname);
  if (bracketed && !ip) return { ok: false, reason: "the URL's IPv6 address cannot be read" };
  if (!ip && /^[0-9]+$|^0x[0-9a-f]*$/i.test(hostname.slice(hostname.lastIndexOf(".") + 1))) {
    // WHATWG already turned numeric hosts into dotted quads or refused them; anything left is odd.
    return { ok: false, reason: "the URL's host looks numeric but is not an IP address" };
  }
  const bare = bracketed ? hostname.slice(1, -1) : hostname;
  const port = url.port === "" ? (scheme === "https" ? 443 : 80) : Number(url.port);
  if (port === 0) return { ok: false, reason: "port 0 is not allowed" };
  const hostForHeader = bracketed ? hostname : bare;
  return {
    ok: true,
    target: {
      url,
      scheme,
      hostname: bare,
      port,
      ...(ip ? { ip } : {}),
      hostHeader: url.port === "" ? hostForHeader : `${hostForHeader}:${port}`,
      pathAndQuery: `${url.pathname}${url.search}`,
    },
  };
}

/**
 * The URL as it may appear in effects, errors and prompts: scheme, host, port and path, and `?…`
 * in place of a query (guests put tokens there). Userinfo never exists: such URLs are refused.
 */
export function displayUrl(target: EgressTarget): string {
  const u = target.url;
  return `${u.protocol}//${u.host}${u.pathname}${u.search === "" ? "" : "?…"}`;
}

/** Whether two targets share an origin (scheme, host, port). */
export function sameOrigin(a: EgressTarget, b: EgressTarget): boolean {
  return a.scheme === b.scheme && a.hostname === b.hostname && a.port === b.port;
}

/**
 * Name resolution by the host, and the address check that pins the connection.
 *
 * The resolver is injected (tests answer from a table and never touch DNS); production uses
 * `systemResolver`, the OS resolver through `dns.lookup` (so `/etc/hosts` applies, and `localhost`
 * is loopback like everywhere else). Every address it returns is parsed and checked; one denied
 * address denies the request (a name that resolves partly into a private network is not trusted
 * with the rest). The first address is then the only one the dialer is given: there is no second
 * lookup between check and connect, so DNS rebinding has nothing to rebind.
 */
import { lookup } from "node:dns/promises";
import { formatAddress, parseAddress } from "./address.js";
import { EgressFailure } from "./errors.js";
import { checkAddress, dialAddress } from "./ranges.js";
import type { EgressTarget } from "./url.js";

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type Resolver = (hostname: string, signal: AbortSignal) => Promise<readonly ResolvedAddress[]>;

export const MAX_RESOLVED_ADDRESSES = 64;

/** The operating system's resolver (getaddrinfo through libuv). */
export const systemResolver: Resolver = async (hostname, signal) => {
  signal.throwIfAborted();
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface PinnedAddress {
  /** The address the dialer connects to (an IPv4-mapped answer is dialled as its IPv4 address). */
  readonly address: string;
  readonly family: 4 | 6;
  /** Every address the check saw, canonical text, for the effect record. */
  readonly checked: readonly string[];
}

/** Resolves (unless the host is an IP literal) and checks; throws EgressFailure when refused. */
export async function resolveAndPin(
  target: EgressTarget,
  allowPrivate: boolean,
  resolver: Resolver,
  signal: AbortSignal,
): Promise<PinnedAddress> {
  let texts: string[];
  if (target.ip) {
    texts = [formatAddress(target.ip)];
  } else {
    let answers: readonly ResolvedAddress[];
    try {
      answers = await raceAbort(resolver(target.hostname, signal), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      throw new EgressFailure("EGRESS_DNS_FAILED", `(${target.hostname})`);
    }
    if (!Array.isArray(answers) || answers.length === 0) {
      throw new EgressFailure("EGRESS_DNS_FAILED", `(${target.hostname} has no addresses)`);
    }
    texts = answers.slice(0, MAX_RESOLVED_ADDRESSES).map((a) => String(a?.address));
  }
  const parsed = texts.map((text) => ({ text, ip: parseAddress(text) }));
  const checked: string[] = [];
  let first: PinnedAddress | undefined;
  for (const { ip } of parsed) {
    if (!ip) {
      throw new EgressFailure(
        "EGRESS_ADDRESS_DENIED",
        `${target.hostname} resolves to something that is not an IP address.`,
        true,
      );
    }
    checked.push(formatAddress(ip));
    const verdict = checkAddress(ip, allowPrivate);
    if (!verdict.ok) throw new EgressFailure("EGRESS_ADDRESS_DENIED", `${target.hostname}: ${verdict.reason}.`, true);
    if (!first) {
      const dial = dialAddress(ip);
      first = { address: formatAddress(dial), family: dial.family, checked };
    }
  }
  if (!first) throw new EgressFailure("EGRESS_DNS_FAILED", `(${target.hostname} has no addresses)`);
  return first;
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (a lookup cannot be cancelled). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

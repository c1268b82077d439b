/**
 * The dialer opens the one connection of one hop, to the address the check pinned. It is injected:
 * tests wrap it so that a would-be connection outside loopback is recorded and refused instead of
 * made. The default dialer connects to the pinned IP itself (no name reaches the socket layer, and
 * its `lookup` refuses to resolve anything), and for https verifies the certificate against the
 * URL's host name, sent as SNI.
 */
import { isIP, connect as netConnect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { checkServerIdentity, type SecureContextOptions, connect as tlsConnect } from "node:tls";

export interface DialTarget {
  /** The checked address (canonical text), never a name. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  /** The URL's host name: SNI and certificate identity for https. */
  readonly hostname: string;
  readonly tls: boolean;
}

export type Dialer = (target: DialTarget, signal: AbortSignal) => Promise<Duplex>;

export interface DialerOptions {
  /** Trust anchors for https, instead of Node's bundled CAs (tests, private PKI). */
  readonly ca?: SecureContextOptions["ca"];
}

function refuseLookup(): never {
  throw new Error("egress sockets connect to checked addresses only");
}

export function createDialer(options: DialerOptions = {}): Dialer {
  return (target, signal) =>
    new Promise<Duplex>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      if (isIP(target.address) === 0) {
        reject(new Error("the dialer was given a name instead of an address"));
        return;
      }
      const base = { host: target.address, port: target.port, family: target.family, lookup: refuseLookup };
      let socket: Socket;
      let ready: string;
      if (target.tls) {
        const name = target.hostname;
        socket = tlsConnect({
          ...base,
          ...(isIP(name) === 0 ? { servername: name } : {}),
          ...(options.ca !== undefined ? { ca: options.ca } : {}),
          ALPNProtocols: ["http/1.1"],
          minVersion: "TLSv1.2",
          checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
        });
        ready = "secureConnect";
      } else {
        socket = netConnect(base);
        ready = "connect";
      }
      const onAbort = () => {
        socket.destroy();
        reject(signal.reason);
      };
      const onError = (error: Error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("error", onError);
      socket.once(ready, () => {
        signal.removeEventListener("abort", onAbort);
        socket.removeListener("error", onError);
        resolve(socket);
      });
    });
}

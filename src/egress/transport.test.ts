import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeForRedaction } from "./decode.js";
import { testSession } from "./test-harness.js";

/** A raw TCP server on 127.0.0.1 that answers with whatever bytes a test wants. */
let raw: Server;
let port = 0;
const scripts = new Map<string, (socket: Socket, request: string) => void>();
const received: string[] = [];

beforeAll(async () => {
  raw = createServer((socket) => {
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = data.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (data.length < end + 4 + length) return;
      received.push(data);
      const path = head.split(" ")[1] ?? "/";
      (scripts.get(path) ?? ((s) => s.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")))(socket, data);
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  port = (raw.address() as AddressInfo).port;
  scripts.set("/garbage", (s) => s.end("THIS IS NOT HTTP\r\n\r\n"));
  scripts.set("/truncated", (s) => s.end("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a little"));
  scripts.set("/huge-headers", (s) =>
    s.end(`HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(20_000)}\r\nContent-Length: 0\r\n\r\n`),
  );
  scripts.set("/ok", (s) => s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
});

afterAll(async () => {
  await new Promise<void>((resolve) => raw.close(() => resolve()));
});

function session() {
  return testSession({
    policy: { allow: [{ host: `127.0.0.1:${port}`, methods: ["GET", "POST", "DELETE"], allowPrivate: true }] },
  }).session;
}

describe("transport", () => {
  it("maps a non-HTTP answer to EGRESS_PROTOCOL_ERROR", async () => {
    const outcome = await session().request({ url: `http://127.0.0.1:${port}/garbage` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_PROTOCOL_ERROR");
  });

  it("maps a body cut short to EGRESS_CONNECT_FAILED", async () => {
    const outcome = await session().request({ url: `http://127.0.0.1:${port}/truncated` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_CONNECT_FAILED");
  });

  it("caps response header bytes", async () => {
    const outcome = await session().request({ url: `http://127.0.0.1:${port}/huge-headers` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_TOO_LARGE");
  });

  it("frames requests itself: Host, Connection: close, identity encoding, explicit lengths", async () => {
    const s = session();
    await s.request({ method: "POST", url: `http://127.0.0.1:${port}/ok` });
    const post = received.at(-1) ?? "";
    expect(post).toMatch(/^POST \/ok HTTP\/1\.1\r\n/);
    expect(post).toMatch(new RegExp(`\\r\\nHost: 127\\.0\\.0\\.1:${port}\\r\\n`));
    expect(post).toMatch(/\r\nConnection: close\r\n/);
    expect(post).toMatch(/\r\nAccept-Encoding: identity\r\n/);
    expect(post).toMatch(/\r\nContent-Length: 0\r\n/);
    expect(post).not.toMatch(/Transfer-Encoding/i);
    await s.request({ method: "POST", url: `http://127.0.0.1:${port}/ok`, body: "abc" });
    expect(received.at(-1)).toMatch(/\r\nContent-Length: 3\r\n\r\nabc$/);
  });

  it("refuses malformed requests from the guest without a host fault", async () => {
    const s = session();
    const bad = [
      await s.request(null as never),
      await s.request({ url: 42 } as never),
      await s.request({ url: `http://127.0.0.1:${port}/ok`, headers: [["only-one"]] } as never),
      await s.request({ url: `http://127.0.0.1:${port}/ok`, headers: "X-A: 1" } as never),
      await s.request({ method: "POST", url: `http://127.0.0.1:${port}/ok`, body: { not: "bytes" } } as never),
    ];
    expect(bad.map((o) => !o.ok && o.error.code)).toEqual([
      "EGRESS_INVALID_REQUEST",
      "EGRESS_INVALID_REQUEST",
      "EGRESS_INVALID_REQUEST",
      "EGRESS_INVALID_REQUEST",
      "EGRESS_INVALID_REQUEST",
    ]);
  });
});

describe("decodeForRedaction", () => {
  const wire = (headers: string[], body: Uint8Array) => ({ status: 200, statusText: "OK", rawHeaders: headers, body });

  it("decodes gzip and drops Content-Encoding and Content-Length", () => {
    const out = decodeForRedaction(
      wire(["Content-Encoding", "gzip", "Content-Length", "9", "X-A", "1"], gzipSync("hello")),
      1000,
    );
    expect(Buffer.from(out.body).toString()).toBe("hello");
    expect(out.rawHeaders).toEqual(["X-A", "1"]);
  });

  it("caps the decoded size (a compression bomb is EGRESS_TOO_LARGE)", () => {
    const bomb = gzipSync(Buffer.alloc(1_000_000));
    expect(bomb.byteLength).toBeLessThan(5000);
    expect(() => decodeForRedaction(wire(["Content-Encoding", "gzip"], bomb), 10_000)).toThrow(
      /larger than the egress limit/,
    );
  });

  it("passes identity through untouched", () => {
    const input = wire(["Content-Type", "text/plain"], new Uint8Array([1, 2]));
    expect(decodeForRedaction(input, 10)).toBe(input);
  });
});

import { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EgressSession } from "./session.js";
import { type LocalServer, localServer, testSession } from "./test-harness.js";

let server: LocalServer;
let slow: LocalServer;

beforeAll(async () => {
  server = await localServer((req, res, body) => {
    if (req.url === "/big") {
      res.writeHead(200, { "Content-Length": "5000" });
      res.end("x".repeat(5000));
    } else if (req.url === "/big-chunked") {
      res.writeHead(200);
      const timer = setInterval(() => {
        if (!res.write("y".repeat(1024))) clearInterval(timer);
      }, 1);
      res.on("close", () => clearInterval(timer));
    } else if (req.url === "/cookie") {
      res.writeHead(200, { "Set-Cookie": "session=abc", "X-Kept": "1", "Content-Type": "text/plain" });
      res.end("ok");
    } else {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ method: req.method, url: req.url, body }));
    }
  });
  slow = await localServer((_req, res) => {
    res.writeHead(200);
    res.write("partial");
    // never ends
  });
});

afterAll(async () => {
  await server.close();
  await slow.close();
});

const local = () => ({
  allow: [{ host: `127.0.0.1:${server.port}`, methods: ["GET", "POST"], allowPrivate: true }],
});

describe("egress session: allowed and denied", () => {
  it("performs an allowed request and records the effect", async () => {
    const { session, dialer } = testSession({ policy: local() });
    const outcome = await session.request({ method: "post", url: `${server.origin}/echo?q=1`, body: "hello" });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.response.status).toBe(200);
    expect(JSON.parse(Buffer.from(outcome.response.body).toString())).toEqual({
      method: "POST",
      url: "/echo?q=1",
      body: "hello",
    });
    expect(outcome.response.url).toBe(`${server.origin}/echo?q=1`);
    expect(dialer.attempts.map((a) => a.address)).toEqual(["127.0.0.1"]);
    expect(outcome.effect).toMatchObject({
      effect: "egress",
      method: "POST",
      url: `${server.origin}/echo?…`,
      decision: "allow",
      status: 200,
      requestBytes: 5,
      performed: true,
      answeredBy: "network",
      credentials: [],
    });
    expect(outcome.effect.bytes).toBe(outcome.response.body.byteLength);
    expect(outcome.effect.durationMs).toBeGreaterThanOrEqual(0);
    expect(session.effects()).toEqual([outcome.effect]);
  });

  it("denies a host no rule names, without resolving or dialling", async () => {
    const { session, dialer, resolver } = testSession({ policy: local(), names: { "evil.example": ["127.0.0.1"] } });
    const outcome = await session.request({ url: `http://evil.example:${server.port}/` });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe("EGRESS_DENIED");
    expect(outcome.effect).toMatchObject({ decision: "deny", code: "EGRESS_DENIED", performed: false });
    expect(outcome.effect.hops[0]?.decision).toBe("deny");
    expect(resolver.lookups).toEqual([]);
    expect(dialer.attempts).toEqual([]);
    expect(server.seen.some((s) => s.headers.host?.startsWith("evil.example"))).toBe(false);
  });

  it("denies a method the rule does not list", async () => {
    const { session, dialer } = testSession({ policy: local() });
    const outcome = await session.request({ method: "DELETE", url: `${server.origin}/` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_DENIED");
    expect(dialer.attempts).toEqual([]);
  });

  it("refuses unsupported methods, bad URLs, bodies on GET, oversized bodies and bad headers", async () => {
    const { session, dialer } = testSession({ policy: local(), limits: { maxRequestBytes: 10 } });
    const codes = await Promise.all([
      session.request({ method: "CONNECT", url: `${server.origin}/` }),
      session.request({ method: "TRACE", url: `${server.origin}/` }),
      session.request({ url: "file:///etc/passwd" }),
      session.request({ url: `http://user:pw@127.0.0.1:${server.port}/` }),
      session.request({ url: `${server.origin}/`, body: "x" }),
      session.request({ method: "POST", url: `${server.origin}/`, body: "x".repeat(11) }),
      session.request({ url: `${server.origin}/`, headers: { "X-A": "1\r\nHost: evil" } }),
    ]).then((outcomes) => outcomes.map((o) => (o.ok ? "ok" : o.error.code)));
    expect(codes).toEqual([
      "EGRESS_INVALID_REQUEST",
      "EGRESS_INVALID_REQUEST",
      "EGRESS_INVALID_URL",
      "EGRESS_INVALID_URL",
      "EGRESS_INVALID_REQUEST",
      "EGRESS_INVALID_REQUEST",
      "EGRESS_INVALID_REQUEST",
    ]);
    expect(dialer.attempts).toEqual([]);
  });

  it("caps the number of calls per execution", async () => {
    const { session } = testSession({ policy: local(), limits: { maxRequests: 1 } });
    expect((await session.request({ url: `${server.origin}/` })).ok).toBe(true);
    const second = await session.request({ url: `${server.origin}/` });
    expect(!second.ok && second.error.code).toBe("EGRESS_TOO_MANY_REQUESTS");
  });
});

describe("egress session: an unreadable policy", () => {
  it("denies every call when the policy does not parse (fail closed)", async () => {
    const attempts: unknown[] = [];
    const session = new EgressSession({
      policy: { allow: [{ host: `127.0.0.1:${server.port}`, allowPrivate: "yes" }] } as never,
      approval: "never",
      resolver: async () => [],
      dialer: async (target) => {
        attempts.push(target);
        throw new Error("must not dial");
      },
    });
    const outcome = await session.request({ url: `${server.origin}/` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_DENIED");
    expect(!outcome.ok && outcome.error.message).toContain("does not match the egress policy schema");
    expect(attempts).toEqual([]);
  });
});

describe("egress session: SSRF encodings", () => {
  const encodings = [
    "http://2130706433:PORT/",
    "http://0x7f000001:PORT/",
    "http://0177.0.0.1:PORT/",
    "http://0x7f.1:PORT/",
    "http://127.1:PORT/",
    "http://127.0.0.1.:PORT/",
    "http://127。0。0。1:PORT/",
    "http://[::ffff:127.0.0.1]:PORT/",
    "http://[::ffff:7f00:1]:PORT/",
    "http://[0:0:0:0:0:ffff:7f00:1]:PORT/",
    "http://[::1]:PORT/",
  ];

  it.each(encodings)("refuses %s when the policy only names a public host", async (template) => {
    const { session, dialer, resolver } = testSession({ policy: { allow: [{ host: "api.example.com" }] } });
    const outcome = await session.request({ url: template.replace("PORT", String(server.port)) });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_DENIED");
    expect(dialer.attempts).toEqual([]);
    expect(resolver.lookups).toEqual([]);
  });

  it.each(encodings.slice(0, 7))(
    "refuses %s by address when the policy names 127.0.0.1 without allowPrivate",
    async (template) => {
      const { session, dialer } = testSession({ policy: { allow: [{ host: "127.0.0.1" }] } });
      const outcome = await session.request({ url: template.replace("PORT", String(server.port)) });
      expect(!outcome.ok && outcome.error.code).toBe("EGRESS_ADDRESS_DENIED");
      expect(dialer.attempts).toEqual([]);
    },
  );

  it.each(encodings.slice(0, 7))("reaches the named loopback server through %s with allowPrivate", async (template) => {
    const { session, dialer } = testSession({ policy: { allow: [{ host: "127.0.0.1", allowPrivate: true }] } });
    const outcome = await session.request({ url: template.replace("PORT", String(server.port)) });
    expect(outcome.ok).toBe(true);
    expect(dialer.attempts.map((a) => a.address)).toEqual(["127.0.0.1"]);
  });

  it("refuses the metadata address in its IPv4-mapped IPv6 spelling even when the policy names that spelling", async () => {
    const { session, dialer } = testSession({ policy: { allow: [{ host: "[::ffff:169.254.169.254]" }] } });
    const outcome = await session.request({ url: "http://[::ffff:169.254.169.254]/latest/meta-data/" });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe("EGRESS_ADDRESS_DENIED");
    expect(outcome.error.message).toContain("metadata");
    expect(dialer.attempts).toEqual([]);
  });

  it("never dials 0.0.0.0 or broadcast, even with allowPrivate", async () => {
    const { session, dialer } = testSession({
      policy: {
        allow: [
          { host: "0.0.0.0", allowPrivate: true },
          { host: "255.255.255.255", allowPrivate: true },
        ],
      },
    });
    for (const url of [`http://0:${server.port}/`, `http://0.0.0.0:${server.port}/`, "http://4294967295/"]) {
      const outcome = await session.request({ url });
      expect(!outcome.ok && outcome.error.code, url).toBe("EGRESS_ADDRESS_DENIED");
    }
    expect(dialer.attempts).toEqual([]);
  });
});

describe("egress session: DNS", () => {
  it.each([
    ["127.0.0.1"],
    ["10.0.0.8"],
    ["169.254.169.254"],
    ["100.64.1.1"],
    ["::1"],
    ["fd00::1"],
    ["::ffff:169.254.169.254"],
    ["fe80::1"],
  ])("refuses a name that resolves to %s", async (address) => {
    const { session, dialer, resolver } = testSession({
      policy: { allow: [{ host: "api.example.com" }] },
      names: { "api.example.com": [address] },
    });
    const outcome = await session.request({ url: "https://api.example.com/" });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_ADDRESS_DENIED");
    expect(resolver.lookups).toEqual(["api.example.com"]);
    expect(dialer.attempts).toEqual([]);
    expect(outcome.effect.hops[0]?.address).toBeUndefined();
  });

  it("refuses a name when any one of its addresses is private", async () => {
    const { session, dialer } = testSession({
      policy: { allow: [{ host: "api.example.com" }] },
      names: { "api.example.com": ["93.184.216.34", "10.0.0.1"] },
    });
    const outcome = await session.request({ url: "https://api.example.com/" });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_ADDRESS_DENIED");
    expect(dialer.attempts).toEqual([]);
  });

  it("pins the connection to the checked address: a rebinding resolver gets no second lookup", async () => {
    let calls = 0;
    const { session, dialer, resolver } = testSession({
      policy: { allow: [{ host: "rebind.example" }] },
      names: { "rebind.example": () => (calls++ === 0 ? ["93.184.216.34"] : ["127.0.0.1"]) },
    });
    const outcome = await session.request({ url: `http://rebind.example:${server.port}/` });
    // The pinned public address is the only one ever dialled; the test guard refuses it (it would
    // leave the machine), so the call fails to connect, and never reaches 127.0.0.1.
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_CONNECT_FAILED");
    expect(resolver.lookups).toEqual(["rebind.example"]);
    expect(dialer.attempts.map((a) => a.address)).toEqual(["93.184.216.34"]);
    expect(dialer.refused.map((a) => a.address)).toEqual(["93.184.216.34"]);
    expect(dialer.attempts[0]?.hostname).toBe("rebind.example");
    expect(server.seen.some((s) => s.headers.host?.startsWith("rebind.example"))).toBe(false);
  });

  it("connects a named internal host through the resolver when the rule allows private addresses", async () => {
    const { session, dialer } = testSession({
      policy: { allow: [{ host: `internal.test:${server.port}`, allowPrivate: true }] },
      names: { "internal.test": ["127.0.0.1"] },
    });
    const outcome = await session.request({ url: `http://internal.test:${server.port}/named` });
    expect(outcome.ok).toBe(true);
    expect(dialer.attempts[0]).toMatchObject({ address: "127.0.0.1", hostname: "internal.test", tls: false });
    expect(server.seen.at(-1)?.headers.host).toBe(`internal.test:${server.port}`);
  });

  it("maps resolver failures and empty answers to EGRESS_DNS_FAILED", async () => {
    const { session } = testSession({
      policy: { allow: [{ host: "*.example.com" }] },
      names: { "empty.example.com": [], "bad.example.com": ["not-an-ip"] },
    });
    const codes = [];
    for (const host of ["missing.example.com", "empty.example.com", "bad.example.com"]) {
      const outcome = await session.request({ url: `https://${host}/` });
      codes.push(!outcome.ok && outcome.error.code);
    }
    expect(codes).toEqual(["EGRESS_DNS_FAILED", "EGRESS_DNS_FAILED", "EGRESS_ADDRESS_DENIED"]);
  });
});

describe("egress session: headers and correlation", () => {
  it("filters the guest's headers, sets Host, request id and traceparent", async () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const { session } = testSession({ policy: local(), requestId: "req_123", traceparent });
    const outcome = await session.request({
      url: `${server.origin}/headers`,
      headers: {
        Host: "169.254.169.254",
        "X-Request-Id": "guest-spoof",
        traceparent: "00-11111111111111111111111111111111-2222222222222222-01",
        "Proxy-Authorization": "Basic eA==",
        "X-Forwarded-For": "10.0.0.1",
        "Transfer-Encoding": "chunked",
        Accept: "application/json",
      },
    });
    expect(outcome.ok).toBe(true);
    const seen = server.seen.at(-1)?.headers ?? {};
    expect(seen.host).toBe(`127.0.0.1:${server.port}`);
    expect(seen["x-request-id"]).toBe("req_123");
    expect(seen.traceparent).toBe(traceparent);
    expect(seen["proxy-authorization"]).toBeUndefined();
    expect(seen["x-forwarded-for"]).toBeUndefined();
    expect(seen["transfer-encoding"]).toBeUndefined();
    expect(seen.accept).toBe("application/json");
    expect(seen.connection).toBe("close");
  });

  it("sends no correlation headers it was not given, and drops an invalid traceparent", async () => {
    const { session } = testSession({ policy: local(), traceparent: "garbage" });
    await session.request({ url: `${server.origin}/headers`, headers: { "X-Request-Id": "guest" } });
    const seen = server.seen.at(-1)?.headers ?? {};
    expect(seen["x-request-id"]).toBeUndefined();
    expect(seen.traceparent).toBeUndefined();
  });

  it("never hands Set-Cookie to the guest", async () => {
    const { session } = testSession({ policy: local() });
    const outcome = await session.request({ url: `${server.origin}/cookie` });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    const names = outcome.response.headers.map(([n]) => n.toLowerCase());
    expect(names).not.toContain("set-cookie");
    expect(names).toContain("x-kept");
  });
});

describe("egress session: size and time caps", () => {
  it("refuses a response whose Content-Length is over the cap", async () => {
    const { session } = testSession({ policy: local(), limits: { maxResponseBytes: 1000 } });
    const outcome = await session.request({ url: `${server.origin}/big` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_TOO_LARGE");
    expect(outcome.effect).toMatchObject({ bytes: 0, performed: true, code: "EGRESS_TOO_LARGE" });
  });

  it("stops reading an endless chunked response at the cap", async () => {
    const { session } = testSession({ policy: local(), limits: { maxResponseBytes: 64 * 1024 } });
    const started = performance.now();
    const outcome = await session.request({ url: `${server.origin}/big-chunked` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_TOO_LARGE");
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("times out a slow response", async () => {
    const policy = { allow: [{ host: `127.0.0.1:${slow.port}`, allowPrivate: true }] };
    const { session } = testSession({ policy, limits: { timeoutMs: 300 } });
    const started = performance.now();
    const outcome = await session.request({ url: `${slow.origin}/` });
    const elapsed = performance.now() - started;
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_TIMEOUT");
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
  });

  it("times out a resolver that never answers", async () => {
    const { session, dialer } = testSession({
      policy: { allow: [{ host: "hang.example" }] },
      limits: { timeoutMs: 200 },
      resolve: () => new Promise(() => {}),
    });
    const outcome = await session.request({ url: "https://hang.example/" });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_TIMEOUT");
    expect(dialer.attempts).toEqual([]);
  });

  it("ends a call in flight with EGRESS_ABORTED when the execution's signal fires", async () => {
    const controller = new AbortController();
    const policy = { allow: [{ host: `127.0.0.1:${slow.port}`, allowPrivate: true }] };
    const { session } = testSession({ policy, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const outcome = await session.request({ url: `${slow.origin}/` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_ABORTED");
    const after = await session.request({ url: `${slow.origin}/` });
    expect(!after.ok && after.error.code).toBe("EGRESS_ABORTED");
  });
});

describe("egress session: a dialer that ignores the signal", () => {
  it("still ends the call on time and destroys the socket that arrives late", async () => {
    const late = new Duplex({
      read() {},
      write(_c, _e, cb) {
        cb();
      },
    });
    const session = new EgressSession({
      policy: { allow: [{ host: "127.0.0.1", allowPrivate: true }] },
      approval: "never",
      resolver: async () => [],
      dialer: () => new Promise((resolve) => setTimeout(() => resolve(late), 400)),
      limits: { timeoutMs: 100 },
    });
    const started = performance.now();
    const outcome = await session.request({ url: "http://127.0.0.1:9/" });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_TIMEOUT");
    expect(performance.now() - started).toBeLessThan(350);
    await new Promise((r) => setTimeout(r, 450));
    expect(late.destroyed).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, localServer, testSession } from "./test-harness.js";

let server: LocalServer;

beforeAll(async () => {
  server = await localServer((req, res, body) => {
    const url = new URL(req.url ?? "/", "http://x");
    const to = url.searchParams.get("u");
    if (url.pathname === "/302" && to) {
      res.writeHead(302, { Location: to });
      res.end("moved");
    } else if (url.pathname === "/303" && to) {
      res.writeHead(303, { Location: to });
      res.end();
    } else if (url.pathname === "/307" && to) {
      res.writeHead(307, { Location: to });
      res.end();
    } else if (url.pathname === "/loop") {
      res.writeHead(302, { Location: "/loop" });
      res.end();
    } else {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ method: req.method, path: url.pathname, body, headers: req.headers }));
    }
  });
});

afterAll(async () => {
  await server.close();
});

const local = () => ({
  allow: [{ host: `127.0.0.1:${server.port}`, methods: ["GET", "POST"], allowPrivate: true }],
});
const via = (status: number, to: string) => `${server.origin}/${status}?u=${encodeURIComponent(to)}`;

describe("egress redirects: every hop is re-validated", () => {
  it("follows a same-origin redirect and reports the final URL", async () => {
    const { session } = testSession({ policy: local() });
    const outcome = await session.request({ url: via(302, "/final") });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.response.redirected).toBe(true);
    expect(outcome.response.url).toBe(`${server.origin}/final`);
    expect(outcome.effect.hops.map((h) => [h.decision, h.status])).toEqual([
      ["allow", 302],
      ["allow", 200],
    ]);
  });

  it("denies a redirect to a private address the policy does not name", async () => {
    const { session, dialer } = testSession({ policy: local() });
    for (const to of ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/"]) {
      const outcome = await session.request({ url: via(302, to) });
      expect(!outcome.ok && outcome.error.code, to).toBe("EGRESS_DENIED");
      expect(outcome.effect.hops.map((h) => h.decision)).toEqual(["allow", "deny"]);
    }
    expect(dialer.attempts.every((a) => a.address === "127.0.0.1")).toBe(true);
  });

  it("denies a redirect to another loopback spelling: naming one internal host does not open the others", async () => {
    const { session, dialer } = testSession({
      policy: { allow: [{ host: `app.test:${server.port}`, allowPrivate: true }] },
      names: { "app.test": ["127.0.0.1"] },
    });
    const outcome = await session.request({
      url: `http://app.test:${server.port}/302?u=${encodeURIComponent(`http://2130706433:${server.port}/final`)}`,
    });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_DENIED");
    expect(dialer.attempts).toHaveLength(1);
  });

  it("refuses a redirect to an allowed name that resolves to the metadata address", async () => {
    const { session, dialer, resolver } = testSession({
      policy: { allow: [...local().allow, { host: "metadata.test" }] },
      names: { "metadata.test": ["169.254.169.254"] },
    });
    const outcome = await session.request({ url: via(302, "http://metadata.test/latest/meta-data/") });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_ADDRESS_DENIED");
    expect(resolver.lookups).toEqual(["metadata.test"]);
    expect(dialer.attempts.map((a) => a.address)).toEqual(["127.0.0.1"]);
    expect(outcome.effect.hops.map((h) => h.decision)).toEqual(["allow", "allow"]);
  });

  it("refuses a redirect to an IPv4-mapped metadata address even when the policy names it", async () => {
    const { session, dialer } = testSession({
      policy: { allow: [...local().allow, { host: "[::ffff:169.254.169.254]" }] },
    });
    const outcome = await session.request({ url: via(307, "http://[::ffff:169.254.169.254]/") });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_ADDRESS_DENIED");
    expect(dialer.attempts).toHaveLength(1);
  });

  it("refuses a redirect to another scheme", async () => {
    const { session } = testSession({ policy: local() });
    const outcome = await session.request({ url: via(302, "file:///etc/passwd") });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_INVALID_URL");
  });

  it("stops at the hop limit", async () => {
    const { session } = testSession({ policy: local(), limits: { maxRedirects: 3 } });
    const before = server.seen.length;
    const outcome = await session.request({ url: `${server.origin}/loop` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_TOO_MANY_REDIRECTS");
    expect(server.seen.length - before).toBe(4);
    expect(outcome.effect.hops).toHaveLength(4);
  });

  it("turns a POST into a bodiless GET on 303, and keeps method and body on 307", async () => {
    const { session } = testSession({ policy: local() });
    const post = { method: "POST", body: "payload", headers: { "Content-Type": "text/plain" } } as const;
    const after303 = await session.request({ ...post, url: via(303, "/final") });
    expect(after303.ok).toBe(true);
    if (!after303.ok) return;
    const seen303 = JSON.parse(Buffer.from(after303.response.body).toString());
    expect(seen303).toMatchObject({ method: "GET", body: "" });
    expect(seen303.headers["content-type"]).toBeUndefined();
    const after307 = await session.request({ ...post, url: via(307, "/final") });
    expect(after307.ok && JSON.parse(Buffer.from(after307.response.body).toString())).toMatchObject({
      method: "POST",
      body: "payload",
    });
  });

  it("hands the 3xx to the guest unfollowed with redirect: manual", async () => {
    const { session, dialer } = testSession({ policy: local() });
    const outcome = await session.request({ url: via(302, "http://10.0.0.1/"), redirect: "manual" });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.response.status).toBe(302);
    expect(outcome.response.headers).toContainEqual(["Location", "http://10.0.0.1/"]);
    expect(dialer.attempts).toHaveLength(1);
  });

  it("drops the guest's Authorization and Cookie on a cross-origin redirect", async () => {
    const other = await localServer((_req, res) => res.end("other"));
    try {
      const policy = { allow: [...local().allow, { host: `127.0.0.1:${other.port}`, allowPrivate: true }] };
      const { session } = testSession({ policy });
      const outcome = await session.request({
        url: via(302, `${other.origin}/landing`),
        headers: { Authorization: "Bearer guest-token", Cookie: "a=b", "X-Other": "kept" },
      });
      expect(outcome.ok).toBe(true);
      expect(server.seen.at(-1)?.headers.authorization).toBe("Bearer guest-token");
      const landed = other.seen.at(-1)?.headers ?? {};
      expect(landed.authorization).toBeUndefined();
      expect(landed.cookie).toBeUndefined();
      expect(landed["x-other"]).toBe("kept");
    } finally {
      await other.close();
    }
  });
});

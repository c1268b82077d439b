import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, localServer, testSession } from "./test-harness.js";

/** Lowercase and hostname-safe, so a redirect can even smuggle it into a host name. */
const SECRET = "s3cr3t-token-value-9f8e7d";
const secretValue = (name: string) =>
  name === "API_TOKEN" ? SECRET : name === "BASIC_AUTH" ? `bob:${SECRET}` : undefined;

let api: LocalServer;
let other: LocalServer;

beforeAll(async () => {
  // An API that echoes everything back, including the credential, in body, headers and redirects.
  api = await localServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = String(req.headers.authorization ?? req.headers["x-api-key"] ?? "");
    if (url.pathname === "/to-other") {
      res.writeHead(302, { Location: `${other.origin}/landing` });
      res.end();
    } else if (url.pathname === "/leak-location") {
      res.writeHead(302, { Location: `${other.origin}/leak/${SECRET}` });
      res.end();
    } else if (url.pathname === "/gzip-echo") {
      res.writeHead(200, {
        "Content-Encoding": "gzip",
        "X-Seen-Accept-Encoding": String(req.headers["accept-encoding"]),
      });
      res.end(gzipSync(Buffer.from(`echo ${auth}`)));
    } else if (url.pathname === "/odd-encoding") {
      res.writeHead(200, { "Content-Encoding": "zstd" });
      res.end(auth);
    } else if (url.pathname === "/leak-host") {
      res.writeHead(302, { Location: `http://${SECRET}.internal.test/` });
      res.end();
    } else {
      res.writeHead(200, { "Content-Type": "application/json", "X-Echo-Auth": auth, "Set-Cookie": `s=${SECRET}` });
      res.end(JSON.stringify({ headers: req.headers, base64: Buffer.from(auth).toString("base64") }));
    }
  });
  other = await localServer((req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ path: req.url, headers: req.headers }));
  });
});

afterAll(async () => {
  await api.close();
  await other.close();
});

function policyWith(credential: { secret: string; as: "bearer" | "basic" | "header"; header?: string }) {
  return {
    allow: [
      { urlPrefix: `${api.origin}/`, credential, allowPrivate: true },
      { host: `127.0.0.1:${other.port}`, allowPrivate: true },
      { host: "*.internal.test" },
    ],
  };
}

function neverLeaks(value: unknown) {
  const text = JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v));
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(Buffer.from(SECRET).toString("base64").replace(/=+$/, ""));
}

describe("egress credentials", () => {
  it.each([
    [{ secret: "API_TOKEN", as: "bearer" as const }, "authorization", `Bearer ${SECRET}`],
    [
      { secret: "BASIC_AUTH", as: "basic" as const },
      "authorization",
      `Basic ${Buffer.from(`bob:${SECRET}`).toString("base64")}`,
    ],
    [{ secret: "API_TOKEN", as: "header" as const, header: "X-Api-Key" }, "x-api-key", SECRET],
  ])("injects %j and the guest never sees the value, even echoed", async (credential, header, expected) => {
    const { session } = testSession({ policy: policyWith(credential), secretValue });
    const outcome = await session.request({
      url: `${api.origin}/echo`,
      headers: { Authorization: "Bearer guest-guess" },
    });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(api.seen.at(-1)?.headers[header]).toBe(expected);
    const body = Buffer.from(outcome.response.body).toString();
    expect(body).toContain(`[REDACTED:secret:${credential.secret}]`);
    neverLeaks(outcome);
    neverLeaks(session.effects());
    expect(outcome.effect.credentials).toEqual([credential.secret]);
    expect(outcome.response.headers.map(([n]) => n.toLowerCase())).not.toContain("set-cookie");
  });

  it("never sends the credential to another host on redirect", async () => {
    const { session } = testSession({ policy: policyWith({ secret: "API_TOKEN", as: "bearer" }), secretValue });
    const outcome = await session.request({ url: `${api.origin}/to-other` });
    expect(outcome.ok).toBe(true);
    expect(api.seen.at(-1)?.headers.authorization).toBe(`Bearer ${SECRET}`);
    const landed = other.seen.at(-1);
    expect(landed?.url).toBe("/landing");
    expect(landed?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(landed?.headers)).not.toContain(SECRET);
    neverLeaks(outcome);
  });

  it("redacts a credential the server puts into a redirect URL", async () => {
    const { session } = testSession({ policy: policyWith({ secret: "API_TOKEN", as: "bearer" }), secretValue });
    const outcome = await session.request({ url: `${api.origin}/leak-location` });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.response.url).toBe(`${other.origin}/leak/[REDACTED:secret:API_TOKEN]`);
    neverLeaks(outcome);
    neverLeaks(session.effects());
  });

  it("redacts a credential from error messages", async () => {
    const { session } = testSession({
      policy: policyWith({ secret: "API_TOKEN", as: "bearer" }),
      secretValue,
      names: { [`${SECRET}.internal.test`]: ["10.0.0.1"] },
    });
    const outcome = await session.request({ url: `${api.origin}/leak-host` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_ADDRESS_DENIED");
    if (outcome.ok) return;
    expect(outcome.error.message).toContain("[REDACTED:secret:API_TOKEN]");
    neverLeaks(outcome);
    neverLeaks(session.effects());
  });

  it("fails closed when the secret has no value: nothing is dialled", async () => {
    const { session, dialer } = testSession({
      policy: policyWith({ secret: "MISSING", as: "bearer" }),
      secretValue,
    });
    const before = api.seen.length;
    const outcome = await session.request({ url: `${api.origin}/echo` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_CREDENTIAL_UNAVAILABLE");
    expect(dialer.attempts).toEqual([]);
    expect(api.seen.length).toBe(before);
  });

  it("does not look the secret up for a request its rule does not match", async () => {
    const looked: string[] = [];
    const { session } = testSession({
      policy: policyWith({ secret: "API_TOKEN", as: "bearer" }),
      secretValue: (name) => {
        looked.push(name);
        return secretValue(name);
      },
    });
    const outcome = await session.request({ url: `${other.origin}/plain` });
    expect(outcome.ok).toBe(true);
    expect(looked).toEqual([]);
    expect(other.seen.at(-1)?.headers.authorization).toBeUndefined();
  });

  it("decodes a compressed echo so that redaction sees into it", async () => {
    const { session } = testSession({ policy: policyWith({ secret: "API_TOKEN", as: "bearer" }), secretValue });
    const outcome = await session.request({
      url: `${api.origin}/gzip-echo`,
      headers: { "Accept-Encoding": "gzip, br" },
    });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(Buffer.from(outcome.response.body).toString()).toBe("echo Bearer [REDACTED:secret:API_TOKEN]");
    expect(outcome.response.headers.map(([n]) => n.toLowerCase())).not.toContain("content-encoding");
    expect(outcome.response.headers).toContainEqual(["X-Seen-Accept-Encoding", "identity"]);
    neverLeaks(outcome);
  });

  it("refuses an encoding it cannot decode when the request carried a credential", async () => {
    const { session } = testSession({ policy: policyWith({ secret: "API_TOKEN", as: "bearer" }), secretValue });
    const outcome = await session.request({ url: `${api.origin}/odd-encoding` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_PROTOCOL_ERROR");
    neverLeaks(outcome);
  });
});

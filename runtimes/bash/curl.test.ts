/**
 * curl in the bash guest: every request goes through the one host call (RunContext.http), answered
 * here by a synchronous fake that records what it was asked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GuestHttpReply, GuestHttpRequest } from "../../src/sandbox/host-call.js";
import { recordingHost } from "../../test/support/fake-host.js";
import { GuestLimitError } from "../../wasm/host/guest-limit.js";
import { createHarness, type Harness } from "./runner-harness.js";

let harness: Harness;
beforeAll(async () => {
  harness = await createHarness();
}, 120_000);
afterAll(async () => {
  await harness?.close();
});

type Reply = Extract<GuestHttpReply, { ok: true }>;
type Answer = (req: GuestHttpRequest) => GuestHttpReply;
const utf8 = (s: string) => new TextEncoder().encode(s);
const ALL_BYTES = new Uint8Array(256).map((_, i) => i);

function ok(req: GuestHttpRequest, body: string | Uint8Array, extra: Partial<Reply> = {}): Reply {
  return {
    ok: true,
    status: 200,
    statusText: "OK",
    headers: [["content-type", "text/plain"]],
    body: typeof body === "string" ? utf8(body) : body,
    url: req.url,
    redirected: false,
    ...extra,
  };
}

const fakeHost = (answer: Answer = (req) => ok(req, "hello\n")) => recordingHost(answer);

const header = (req: GuestHttpRequest | undefined, name: string) =>
  req?.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);

describe("curl: requests", () => {
  it("GETs with headers and prints the body; -i adds the status line and headers", async () => {
    const host = fakeHost((req) => ok(req, "body\n", { status: 200, statusText: "OK", headers: [["X-Reply", "r"]] }));
    const r = await harness.run(
      "curl -s -H 'X-Key: secret-ish' -H 'Accept: application/json' https://api.example.com/a?q=1\ncurl -si https://api.example.com/b",
      { http: host.http },
    );
    expect(r.outcome.exitCode).toBe(0);
    expect(r.stdout).toBe("body\nHTTP/1.1 200 OK\r\nX-Reply: r\r\n\r\nbody\n");
    expect(host.calls).toHaveLength(2);
    expect(host.calls[0]).toMatchObject({ method: "GET", url: "https://api.example.com/a?q=1", redirect: "manual" });
    expect(host.calls[0]?.body).toBeUndefined();
    expect(header(host.calls[0], "x-key")).toEqual(["secret-ish"]);
    expect(header(host.calls[0], "accept")).toEqual(["application/json"]);
    expect(header(host.calls[0], "user-agent")?.[0]).toMatch(/^curl\//);
  });

  it("POSTs a binary file byte-exact with --data-binary @file and saves a binary reply with -o", async () => {
    const host = fakeHost((req) => ok(req, new Uint8Array([...ALL_BYTES].reverse())));
    const r = await harness.run(
      "curl -sS --data-binary @in.bin -o out.bin https://api.example.com/up -w '%{http_code}'",
      {
        http: host.http,
        request: { files: [{ path: "in.bin", content: ALL_BYTES }] },
      },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("200");
    expect(host.calls[0]?.method).toBe("POST");
    expect(host.calls[0]?.body).toEqual(ALL_BYTES);
    expect(r.outcome.files.find((f) => f.path === "out.bin")?.content).toEqual(
      new Uint8Array([...ALL_BYTES].reverse()),
    );
  });

  it("pipes a binary body byte-exact to the next command", async () => {
    const host = fakeHost((req) => ok(req, ALL_BYTES));
    const r = await harness.run("curl -s https://api.example.com/bin | sha256sum", { http: host.http });
    const { createHash } = await import("node:crypto");
    expect(r.stdout.split(" ")[0]).toBe(createHash("sha256").update(ALL_BYTES).digest("hex"));
  });

  it("sends form data: -d (POST, urlencoded, @file without newlines), -G, -X, -T", async () => {
    const host = fakeHost();
    await harness.run(
      [
        "curl -s -d a=1 -d 'b=two words' https://x.example/form",
        "curl -s -d @lines.txt https://x.example/file",
        "curl -s -G -d q=1 --data-urlencode 'name=a b&c' https://x.example/search",
        "curl -s -X PUT -H 'Content-Type: application/json' --data-raw '{\"a\":1}' https://x.example/json",
        "curl -s -T lines.txt https://x.example/upload",
        "echo -n piped | curl -s --data-binary @- https://x.example/stdin",
      ].join("\n"),
      { http: host.http, request: { files: [{ path: "lines.txt", content: utf8("one\ntwo\r\n") }] } },
    );
    const bodies = host.calls.map((c) => (c.body === undefined ? undefined : new TextDecoder().decode(c.body)));
    expect(host.calls.map((c) => c.method)).toEqual(["POST", "POST", "GET", "PUT", "PUT", "POST"]);
    expect(bodies).toEqual(["a=1&b=two words", "onetwo", undefined, '{"a":1}', "one\ntwo\r\n", "piped"]);
    expect(host.calls[2]?.url).toBe("https://x.example/search?q=1&name=a%20b%26c");
    expect(header(host.calls[0], "content-type")).toEqual(["application/x-www-form-urlencoded"]);
    expect(header(host.calls[3], "content-type")).toEqual(["application/json"]);
  });

  it("reads JSON that jq can parse", async () => {
    const host = fakeHost((req) =>
      ok(req, '{"items":[{"id":7}]}', { headers: [["content-type", "application/json"]] }),
    );
    const r = await harness.run("curl -s https://api.example.com/items | jq '.items[0].id'", { http: host.http });
    expect(r.stdout).toBe("7\n");
  });
});

describe("curl: redirects, failures, refusals", () => {
  const redirecting: Answer = (req) =>
    req.redirect === "manual"
      ? ok(req, "moved\n", { status: 302, statusText: "Found", headers: [["location", "https://x.example/to"]] })
      : ok(req, "final\n", { url: "https://x.example/to", redirected: true });

  it("follows redirects only with -L", async () => {
    const host = fakeHost(redirecting);
    const r = await harness.run(
      "curl -s -w '%{http_code} %{redirect_url}\\n' https://x.example/from\ncurl -sL -w '%{http_code} %{url_effective}\\n' https://x.example/from",
      { http: host.http },
    );
    expect(host.calls.map((c) => c.redirect)).toEqual(["manual", "follow"]);
    expect(r.stdout).toBe("moved\n302 https://x.example/to\nfinal\n200 https://x.example/to\n");
  });

  it("-f exits 22 on HTTP errors; -I prints the headers of a HEAD request", async () => {
    const host = fakeHost((req) =>
      req.url.endsWith("/missing")
        ? ok(req, "nope", { status: 404, statusText: "Not Found" })
        : ok(req, "", { headers: [["content-length", "5"]] }),
    );
    const r = await harness.run(
      "curl -sf https://x.example/missing; echo rc=$?\ncurl -sSf https://x.example/missing; echo rc=$?\ncurl -sI https://x.example/head",
      { http: host.http },
    );
    expect(r.stdout).toBe("rc=22\nrc=22\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
    expect(r.stderr).toBe("curl: (22) The requested URL returned error: 404\n");
    expect(host.calls[2]?.method).toBe("HEAD");
  });

  it("prints a refusal as curl: (N) CODE: message and exits N", async () => {
    const refusals: Record<string, string> = {
      "https://denied.example/": "EGRESS_DENIED",
      "https://nxdomain.example/": "EGRESS_DNS_FAILED",
      "https://slow.example/": "EGRESS_TIMEOUT",
      "https://dry.example/": "DRY_RUN",
    };
    const host = fakeHost((req) => ({ ok: false, code: refusals[req.url] ?? "EGRESS_INTERNAL", message: "Because." }));
    const r = await harness.run(
      [
        ...Object.keys(refusals).map((u) => `curl ${u}; echo rc=$?`),
        "curl -s https://denied.example/; echo quiet=$?",
      ].join("\n"),
      { http: host.http },
    );
    expect(r.stdout).toBe("rc=7\nrc=6\nrc=28\nrc=7\nquiet=7\n");
    expect(r.stderr).toBe(
      "curl: (7) EGRESS_DENIED: Because.\ncurl: (6) EGRESS_DNS_FAILED: Because.\n" +
        "curl: (28) EGRESS_TIMEOUT: Because.\ncurl: (7) DRY_RUN: Because.\n",
    );
    const last = await harness.run("curl https://denied.example/", { http: host.http });
    expect(last.outcome.exitCode).toBe(7);
    expect(last.outcome.error?.code).toBe("NON_ZERO_EXIT");
  });

  it("without a network (the default host) curl is refused by the host, not missing", async () => {
    const r = await harness.run("curl https://example.com/; echo rc=$?");
    expect(r.stdout).toBe("rc=7\n");
    expect(r.stderr).toMatch(/^curl: \(7\) EGRESS_DENIED: /);
  });

  it("refuses invalid input before asking the host", async () => {
    const host = fakeHost();
    const r = await harness.run(
      [
        "curl ftp://x.example/f; echo rc=$?",
        "curl file:///etc/passwd; echo rc=$?",
        "curl 'https://x.example/a b'; echo rc=$?",
        "curl -H 'no colon here' https://x.example/; echo rc=$?",
        "curl --no-such-option https://x.example/; echo rc=$?",
        "curl; echo rc=$?",
        "curl -d @missing.txt https://x.example/; echo rc=$?",
        "curl -X 'BAD METHOD' https://x.example/; echo rc=$?",
      ].join("\n"),
      { http: host.http },
    );
    expect(host.calls).toHaveLength(0);
    expect(r.stdout).toBe("rc=1\nrc=1\nrc=3\nrc=2\nrc=2\nrc=2\nrc=26\nrc=2\n");
    expect(r.stderr).toContain('curl: (1) Protocol "ftp" not supported');
  });
});

describe("curl: deadline and freshness", () => {
  it("reads the deadline lazily: time spent waiting for approval does not count", async () => {
    const r = await harness.run("curl -s https://x.example/ >/dev/null; sleep 0.2; echo done", {
      limits: { timeoutMs: 400 },
      http: (req, run) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
        run.extendDeadline(600);
        return ok(req, "approved");
      },
    });
    expect(r.outcome.error).toBeUndefined();
    expect(r.stdout).toBe("done\n");
  });

  it("a host call cancelled while waiting ends the run with TIMEOUT; the next run is clean", async () => {
    let asked = 0;
    const cancelled = await harness.run("curl -s https://x.example/; echo after", {
      http: () => {
        asked++;
        throw new GuestLimitError("TIMEOUT", "cancelled while waiting");
      },
    });
    expect(asked).toBe(1);
    expect(cancelled.outcome.error?.code).toBe("TIMEOUT");
    expect(cancelled.stdout).toBe("");
    const host = fakeHost();
    const next = await harness.run("echo start; curl -s https://x.example/next", { http: host.http });
    expect(next.stdout).toBe("start\nhello\n");
    expect(host.calls.map((c) => c.url)).toEqual(["https://x.example/next"]);
  });
});

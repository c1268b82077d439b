/**
 * The guest's fetch: marshalling into the one host call (RunContext.http), replies, refusals,
 * validation before the host is asked, deadlines, tampering, freshness. The host is a synchronous
 * fake recording what it was asked.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { GuestHttpReply, GuestHttpRequest } from "../../src/sandbox/host-call.js";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import type { Runner } from "../../src/sandbox/wasm/runtime.js";
import { allocateSharedOutput, readSharedOutput, SharedOutputSink } from "../../src/sandbox/wasm/shared-output.js";
import { recordingHost } from "../../test/support/fake-host.js";
import { createTestRunner, request, runInProcess } from "../../test/support/wasm-runner.js";
import { GuestLimitError } from "../../wasm/host/guest-limit.js";
import { javascriptRuntime } from "./wasm.js";

let runner: Runner;
beforeAll(async () => {
  runner = await createTestRunner(javascriptRuntime);
});

type Reply = Extract<GuestHttpReply, { ok: true }>;
const utf8 = (s: string) => new TextEncoder().encode(s);

const fakeHost = (answer: (req: GuestHttpRequest) => GuestHttpReply = (req) => ok(req, "hello")) =>
  recordingHost(answer);

function ok(req: GuestHttpRequest, body: string | Uint8Array, extra: Partial<Reply> = {}): Reply {
  return {
    ok: true,
    status: 200,
    statusText: "OK",
    headers: [["Content-Type", "text/plain"]],
    body: typeof body === "string" ? utf8(body) : body,
    url: req.url,
    redirected: false,
    ...extra,
  };
}

/** Guest code in an async function, so it can await. */
const asyncMain = (code: string) =>
  `(async () => {\n${code}\n})().catch((e) => { console.log("UNCAUGHT", e && e.message); process.exitCode = 3; });`;

const run = (code: string, http: (req: GuestHttpRequest) => GuestHttpReply) =>
  runInProcess(runner, request("javascript", asyncMain(code)), {}, http);

describe("fetch: requests and responses", () => {
  it("sends method, url and headers (object, pairs, Headers) and exposes the response", async () => {
    const host = fakeHost((req) =>
      ok(req, "hi", {
        status: 201,
        statusText: "Created",
        headers: [
          ["X-One", "1"],
          ["set-cookie", "a=1"],
          ["set-cookie", "b=2"],
        ],
      }),
    );
    const r = await run(
      `const a = await fetch("https://api.example.com/a?q=1", { headers: { "X-Key": "v1", Accept: "text/plain" } });
       await fetch("https://api.example.com/b", { method: "delete", headers: [["X-Pair", "p"]] });
       const h = new Headers(); h.append("X-H", "1"); h.append("x-h", "2");
       await fetch(new Request("https://api.example.com/c", { method: "PATCH", headers: h, body: "x" }));
       const seen = []; a.headers.forEach((v, k) => seen.push(k + "=" + v));
       console.log(a.status, a.statusText, a.ok, a.url, a.redirected, a.headers.get("x-ONE"), a.headers.has("X-One"));
       console.log(JSON.stringify([...a.headers.entries()]), seen.join(","), await a.text(), a.bodyUsed);`,
      host.http,
    );
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      "201 Created true https://api.example.com/a?q=1 false 1 true\n" +
        '[["set-cookie","a=1"],["set-cookie","b=2"],["x-one","1"]] set-cookie=a=1,set-cookie=b=2,x-one=1 hi true\n',
    );
    expect(host.calls.map(({ method, url, headers, redirect }) => ({ method, url, headers, redirect }))).toEqual([
      {
        method: "GET",
        url: "https://api.example.com/a?q=1",
        headers: [
          ["x-key", "v1"],
          ["accept", "text/plain"],
        ],
        redirect: "follow",
      },
      { method: "DELETE", url: "https://api.example.com/b", headers: [["x-pair", "p"]], redirect: "follow" },
      {
        method: "PATCH",
        url: "https://api.example.com/c",
        headers: [
          ["x-h", "1"],
          ["x-h", "2"],
          ["content-type", "text/plain;charset=UTF-8"],
        ],
        redirect: "follow",
      },
    ]);
    expect(host.calls[0]?.body).toBeUndefined();
    expect(host.calls[2]?.body).toEqual(utf8("x"));
  });

  it("carries a binary body byte-exact both ways", async () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const host = fakeHost((req) => ok(req, new Uint8Array([...[...(req.body ?? [])].reverse(), ...all])));
    const r = await run(
      `const sent = new Uint8Array(256).map((_, i) => 255 - i);
       const res = await fetch("https://api.example.com/up", { method: "POST", body: sent.subarray(0, 256) });
       const back = await res.clone().bytes();
       const buf = new Uint8Array(await res.arrayBuffer());
       console.log(back.length, buf.length, Array.from(back.slice(0, 3)).join(","), Array.from(back.slice(-3)).join(","), back.every((b, i) => b === buf[i]));`,
      host.http,
    );
    expect(r.stdout).toBe("512 512 0,1,2 253,254,255 true\n");
    expect(host.calls[0]?.method).toBe("POST");
    expect(host.calls[0]?.body).toEqual(new Uint8Array(256).map((_, i) => 255 - i));
  });

  it("parses JSON and sends ArrayBuffer bodies", async () => {
    const host = fakeHost((req) =>
      ok(req, JSON.stringify({ n: 1, s: "é" }), { headers: [["content-type", "application/json"]] }),
    );
    const r = await run(
      `const res = await fetch("https://api.example.com/j", { method: "POST", body: new TextEncoder().encode('{"q":1}').buffer, headers: { "content-type": "application/json" } });
       const data = await res.json();
       console.log(data.n, data.s, res.headers.get("Content-Type"));
       try { await res.text(); } catch (e) { console.log(e.name, e.message); }`,
      host.http,
    );
    expect(r.stdout).toBe("1 é application/json\nTypeError Body is unusable: Body has already been read\n");
    expect(new TextDecoder().decode(host.calls[0]?.body)).toBe('{"q":1}');
  });

  it("decodes text with NUL characters whole (the bridge passes it as a JSON literal)", async () => {
    const host = fakeHost((req) => ok(req, "a\u0000b\u0000é"));
    const r = await run(
      `const t = await (await fetch("https://a.example/")).text();
       console.log(t.length, JSON.stringify(t), new TextDecoder().decode(new Uint8Array([104, 0, 105])).length);`,
      host.http,
    );
    expect(r.stdout).toBe('5 "a\\u0000b\\u0000é" 3\n');
  });

  it("rejects a refusal with a TypeError carrying the code", async () => {
    const host = fakeHost(() => ({
      ok: false,
      code: "EGRESS_DENIED",
      message: "The egress policy does not allow this request.",
    }));
    const r = await run(
      `try { await fetch("https://blocked.example/"); console.log("resolved"); }
       catch (e) { console.log(e instanceof TypeError, e.message, e.code, e.cause.code, e.cause.message); }`,
      host.http,
    );
    expect(r.stdout).toBe(
      "true fetch failed: EGRESS_DENIED: The egress policy does not allow this request. EGRESS_DENIED EGRESS_DENIED The egress policy does not allow this request.\n",
    );
    expect(host.calls).toHaveLength(1);
  });

  it("passes the redirect mode; 'error' rejects on a 3xx", async () => {
    const host = fakeHost((req) =>
      req.redirect === "manual"
        ? ok(req, "", { status: 302, statusText: "Found", headers: [["location", "https://api.example.com/to"]] })
        : ok(req, "final", { url: "https://api.example.com/to", redirected: true }),
    );
    const r = await run(
      `const m = await fetch("https://api.example.com/from", { redirect: "manual" });
       console.log(m.status, m.headers.get("location"), m.redirected);
       const f = await fetch("https://api.example.com/from");
       console.log(f.status, f.url, f.redirected, await f.text());
       try { await fetch("https://api.example.com/from", { redirect: "error" }); } catch (e) { console.log(e.message); }`,
      host.http,
    );
    expect(r.stdout).toBe(
      "302 https://api.example.com/to false\n200 https://api.example.com/to true final\n" +
        'fetch failed: unexpected redirect (redirect mode is "error")\n',
    );
    expect(host.calls.map((c) => c.redirect)).toEqual(["manual", "follow", "manual"]);
  });

  it("rejects invalid input in the guest without calling the host", async () => {
    const host = fakeHost();
    const r = await run(
      `const attempts = [
         () => fetch("ftp://example.com/"),
         () => fetch("/relative"),
         () => fetch("https://example.com/ space"),
         () => fetch("https://example.com/" + "a".repeat(9000)),
         () => fetch("https://example.com/", { headers: { "bad name": "x" } }),
         () => fetch("https://example.com/", { headers: { "x-a": "line\\r\\nbreak" } }),
         () => fetch("https://example.com/", { headers: [["only-one"]] }),
         () => fetch("https://example.com/", { method: "GET", body: "x" }),
         () => fetch("https://example.com/", { method: "POST", body: { a: 1 } }),
         () => fetch("https://example.com/", { method: "bad method" }),
         () => fetch("https://example.com/", { method: "CONNECT" }),
         () => fetch("https://example.com/", { redirect: "sometimes" }),
         () => fetch("https://example.com/", { method: "POST", body: new Uint8Array(8 * 1024 * 1024 + 1) }),
       ];
       for (const attempt of attempts) {
         try { await attempt(); console.log("resolved"); } catch (e) { console.log(e.name, e.code); }
       }`,
      host.http,
    );
    expect(host.calls).toHaveLength(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      ...Array(4).fill("TypeError EGRESS_INVALID_URL"),
      ...Array(9).fill("TypeError EGRESS_INVALID_REQUEST"),
    ]);
  });
});

describe("fetch: deadline and limits", () => {
  it("resolves without await after the main script returned", async () => {
    const host = fakeHost((req) => ok(req, "late"));
    const r = await runInProcess(
      runner,
      request(
        "javascript",
        'fetch("https://api.example.com/").then((r) => r.text()).then((t) => console.log("got", t));\nconsole.log("main done");',
      ),
      {},
      host.http,
    );
    expect(r.stdout).toBe("main done\ngot late\n");
    expect(r.error).toBeUndefined();
  });

  it("reads the deadline lazily: a host call that waited (and moved the deadline) does not time the run out", async () => {
    const timeoutMs = 300;
    let deadline = Date.now() + timeoutMs;
    const http = (req: GuestHttpRequest): GuestHttpReply => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      deadline += 500; // the host paused the clock while a human approved
      return ok(req, "approved");
    };
    const out = allocateSharedOutput(1024);
    const err = allocateSharedOutput(1024);
    const outcome = await runner.run(
      request(
        "javascript",
        'fetch("https://a.example/").then((r) => r.text()).then((t) => setTimeout(() => console.log(t), 50));',
      ),
      {
        limits: { ...DEFAULT_LIMITS, timeoutMs },
        get deadline() {
          return deadline;
        },
        stdout: new SharedOutputSink(out, 0),
        stderr: new SharedOutputSink(err, 0),
        cancelled: () => false,
        http,
      },
    );
    expect(outcome.error).toBeUndefined();
    expect(readSharedOutput(out, 0).text).toBe("approved\n");
  });

  it("stops the guest with TIMEOUT when the host call is cancelled", async () => {
    const r = await runInProcess(
      runner,
      request(
        "javascript",
        'fetch("https://a.example/").then(() => console.log("resolved"), () => console.log("rejected"));',
      ),
      {},
      () => {
        throw new GuestLimitError("TIMEOUT", "cancelled while waiting for approval");
      },
    );
    expect(r.error?.code).toBe("TIMEOUT");
    expect(r.stdout).toBe("");
  });
});

describe("fetch: the host function stays out of reach", () => {
  it("exposes no host function or object through fetch, its classes or tampering", async () => {
    const host = fakeHost((req) => ok(req, "x"));
    const r = await run(
      `const out = [];
       out.push(typeof __host, typeof host, Object.getOwnPropertyNames(globalThis).filter((n) => /host/i.test(n)).length);
       out.push(new Function("return typeof host")());
       out.push(Object.getOwnPropertyNames(fetch).sort().join("|"));
       out.push(String(fetch).includes("[native code]"));
       try { fetch.caller; out.push("caller readable"); } catch (e) { out.push(e.name); }
       for (const C of [Headers, Request, Response]) out.push(Object.getOwnPropertyNames(C).sort().join("|"));
       // Proxies and getters as headers run guest code in the guest only.
       const trap = new Proxy({}, { ownKeys: () => ["x-p"], getOwnPropertyDescriptor: () => ({ value: "v", enumerable: true, configurable: true }), get: (t, k) => k === "x-p" ? "proxied" : undefined });
       await fetch("https://a.example/1", { headers: trap });
       const getters = { get "x-g"() { return "g"; } };
       await fetch("https://a.example/2", { headers: getters });
       try { await fetch("https://a.example/3", { headers: { get boom() { throw new Error("boom"); } } }); } catch (e) { out.push(e.message); }
       // Re-entrant fetch from a getter evaluated while marshalling.
       await fetch("https://a.example/4", { headers: { get "x-r"() { fetch("https://a.example/inner"); return "r"; } } });
       // Setters on Object.prototype are never triggered by the host's reply.
       let triggered = 0;
       for (const k of ["ok", "status", "body", "headers", "url", "code"]) Object.defineProperty(Object.prototype, k, { set() { triggered++; }, configurable: true });
       const res = await fetch("https://a.example/5");
       out.push(res.status, triggered);
       for (const k of ["ok", "status", "body", "headers", "url", "code"]) delete Object.prototype[k];
       // A tampered JSON or typed-array prototype reaches the host as garbage the host refuses.
       const toJSON = Array.prototype.toJSON;
       Array.prototype.toJSON = function () { return { not: "a list" }; };
       try { await fetch("https://a.example/6"); } catch (e) { out.push(e.code); }
       delete Array.prototype.toJSON;
       const bufferGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "buffer");
       Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), "buffer", { get() { return { fake: true }; }, configurable: true });
       const posted = await fetch("https://a.example/7", { method: "POST", body: "x" });
       out.push(posted.status, await posted.text());
       try { out.push(new TextDecoder().decode(new Uint8Array([104]))); } catch (e) { out.push("threw " + e.message); }
       Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), "buffer", bufferGetter);
       console.log(JSON.stringify(out));`,
      host.http,
    );
    expect(r.stderr).toBe("");
    expect(r.exitCode, r.stdout).toBe(0);
    const out = JSON.parse(r.stdout) as unknown[];
    expect(out).toEqual([
      "undefined",
      "undefined",
      0,
      "undefined",
      "length|name",
      false,
      "TypeError",
      "length|name|prototype",
      "length|name|prototype",
      "error|json|length|name|prototype|redirect",
      "boom",
      200,
      0,
      "EGRESS_INVALID_REQUEST",
      200,
      "x",
      "",
    ]);
    expect(host.calls.map((c) => c.url)).toEqual([
      "https://a.example/1",
      "https://a.example/2",
      "https://a.example/inner",
      "https://a.example/4",
      "https://a.example/5",
      "https://a.example/7",
    ]);
    expect(host.calls[5]?.body).toEqual(utf8("x"));
    expect(host.calls[0]?.headers).toEqual([["x-p", "proxied"]]);
    expect(host.calls[1]?.headers).toEqual([["x-g", "g"]]);
    for (const call of host.calls) {
      expect(typeof call.method).toBe("string");
      expect(call.headers.every((p) => p.length === 2 && p.every((s) => typeof s === "string"))).toBe(true);
    }
  });

  it("gives every run a pristine fetch, whatever the previous run patched", async () => {
    const host = fakeHost((req) => ok(req, "fresh"));
    await run(
      `globalThis.fetch = async () => "patched"; Headers.prototype.get = () => "patched";
       Response.prototype.text = async () => "patched"; Object.prototype.polluted = 1;`,
      host.http,
    );
    const r = await run(
      `const res = await fetch("https://a.example/");
       console.log(fetch.name, res.headers.get("content-type"), await res.text(), ({}).polluted);`,
      host.http,
    );
    expect(r.stdout).toBe("fetch text/plain fresh undefined\n");
  });
});

describe("fetch: compiled on first use", () => {
  it("costs a run that never touches it nothing, and the next run still gets a working fetch", async () => {
    const host = fakeHost((req) => ok(req, "later"));
    const first = await run(`console.log(1);`, host.http);
    expect(first.stdout).toBe("1\n");
    expect(host.calls).toEqual([]);
    const second = await run(
      `const before = Object.getOwnPropertyDescriptor(globalThis, "fetch");
       const res = await fetch("https://a.example/later");
       const after = Object.getOwnPropertyDescriptor(globalThis, "fetch");
       console.log(typeof before.get, typeof after.value, after.writable, after.enumerable, after.configurable,
         fetch === after.value, res instanceof Response, await res.text());`,
      host.http,
    );
    expect(second.stderr).toBe("");
    expect(second.stdout).toBe("function function true true true true true later\n");
    expect(host.calls.map((c) => c.url)).toEqual(["https://a.example/later"]);
  });

  it("keeps what the guest assigned before the first use, and installs the others", async () => {
    const host = fakeHost((req) => ok(req, "x"));
    const r = await run(
      `globalThis.fetch = 42;
       Object.defineProperty(globalThis, "Request", { value: "mine", writable: true, configurable: true });
       const h = new Headers([["a", "1"]]);
       console.log(fetch, Request, h.get("a"), typeof Response, Object.keys(globalThis).includes("Headers"));`,
      host.http,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("42 mine 1 function true\n");
  });

  it("gives a guest that tampered with every intrinsic first no way to the bridge", async () => {
    const host = fakeHost((req) => ok(req, "body"));
    const r = await run(
      `const seen = []; const hits = {};
       const record = (name, values) => { hits[name] = (hits[name] || 0) + 1; for (const v of values) seen.push(v); };
       const wrap = (owner, key, name) => {
         const original = owner[key];
         owner[key] = function (...args) { record(name, [this, ...args]); return Reflect.apply(original, this, args); };
       };
       const realApply = Reflect.apply;
       globalThis.eval = (...args) => { record("eval", args); return undefined; };
       Reflect.apply = (f, t, a) => { record("Reflect.apply", [f, t, ...a]); return realApply(f, t, a); };
       wrap(JSON, "parse", "JSON.parse"); wrap(JSON, "stringify", "JSON.stringify");
       for (const k of ["keys", "defineProperty", "getOwnPropertyDescriptor", "getOwnPropertyNames"]) wrap(Object, k, "Object." + k);
       wrap(Uint8Array.prototype, "slice", "Uint8Array.slice"); wrap(ArrayBuffer.prototype, "slice", "ArrayBuffer.slice");
       for (const k of ["call", "apply", "bind"]) wrap(Function.prototype, k, "Function." + k);
       for (const k of ["WeakMap", "Set", "Promise", "Error", "TypeError"]) {
         const Original = globalThis[k];
         globalThis[k] = function (...args) { record(k, args); return new Original(...args); };
       }
       const res = await fetch("https://a.example/t", { method: "POST", headers: { "x-a": "1" }, body: new Uint8Array([120]) });
       const text = await res.text();
       const bridge = seen.filter((v) => v !== null && (typeof v === "object" || typeof v === "function") &&
         ["http", "fetchSource", "fs", "write"].some((k) => { try { return k in v; } catch { return false; } }));
       console.log(JSON.stringify({ status: res.status, text, bridge: bridge.length, host: typeof __host,
         eval: hits.eval || 0, apply: hits["Reflect.apply"] || 0, parse: hits["JSON.parse"] || 0,
         stringify: hits["JSON.stringify"] || 0, define: hits["Object.defineProperty"] || 0,
         slice: (hits["Uint8Array.slice"] || 0) + (hits["ArrayBuffer.slice"] || 0),
         ctors: ["WeakMap", "Set", "Promise", "Error", "TypeError"].map((k) => hits[k] || 0).join(",") }));`,
      host.http,
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      status: 200,
      text: "body",
      bridge: 0,
      host: "undefined",
      eval: 0,
      apply: 0,
      parse: 0,
      stringify: 0,
      define: 0,
      slice: 0,
      ctors: "0,0,0,0,0",
    });
    expect(host.calls).toHaveLength(1);
    expect(host.calls[0]?.body).toEqual(utf8("x"));
    expect(host.calls[0]?.headers).toEqual([["x-a", "1"]]);
  });
});

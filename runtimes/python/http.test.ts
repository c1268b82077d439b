/**
 * `sandbox.http` and urllib in the real interpreter, in-process, with a fake synchronous host call
 * that records what it was asked and answers canned replies.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { GuestHttpReply, GuestHttpRequest } from "../../src/sandbox/host-call.js";
import type { Runner } from "../../src/sandbox/wasm/runtime.js";
import { recordingHost } from "../../test/support/fake-host.js";
import { createTestRunner, request, runInProcess } from "../../test/support/wasm-runner.js";
import { pythonWasmRuntime } from "./wasm.js";

let runner: Runner;

beforeAll(async () => {
  runner = await createTestRunner(pythonWasmRuntime);
}, 120_000);

const BINARY = new Uint8Array(256).map((_, i) => i);

function reply(fields: Partial<Extract<GuestHttpReply, { ok: true }>> = {}): GuestHttpReply {
  return {
    ok: true,
    status: 200,
    statusText: "OK",
    headers: [["Content-Type", "application/octet-stream"]],
    body: BINARY,
    url: "https://api.example.com/data",
    redirected: false,
    ...fields,
  };
}

const host = (answer: (r: GuestHttpRequest) => GuestHttpReply = () => reply()) => recordingHost(answer);

async function py(code: string, http: (r: GuestHttpRequest) => GuestHttpReply) {
  return runInProcess(runner, request("python", code), {}, http);
}

describe("sandbox.http", () => {
  it("GET with headers; the binary body, status and headers come back intact", async () => {
    const h = host();
    const r = await py(
      `from sandbox import http
r = http.get("https://api.example.com/data", headers={"Accept": "*/*", "X-Trace": "t1"})
print(r.status, r.reason, r.ok, r.url, r.redirected)
print(r.header("content-type"), r.headers)
print(r.body == bytes(range(256)), len(r.body))`,
      h.http,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      "200 OK True https://api.example.com/data False\n" +
        "application/octet-stream [('Content-Type', 'application/octet-stream')]\n" +
        "True 256\n",
    );
    expect(h.calls).toEqual([
      {
        method: "GET",
        url: "https://api.example.com/data",
        headers: [
          ["Accept", "*/*"],
          ["X-Trace", "t1"],
        ],
        redirect: "follow",
      },
    ]);
  });

  it("POST sends the body to the host byte for byte", async () => {
    const h = host(() => reply({ status: 201, statusText: "Created", body: new TextEncoder().encode('{"id": 7}') }));
    const r = await py(
      `import sandbox
r = sandbox.http.post("https://api.example.com/up", body=bytes(range(256)) * 3 + b"\\r\\n\\x00",
                      headers=[("Content-Type", "application/octet-stream")], redirect="manual")
print(r.status, r.json()["id"], r.text())`,
      h.http,
    );
    expect(r.stdout).toBe('201 7 {"id": 7}\n');
    expect(h.calls).toHaveLength(1);
    const sent = h.calls[0];
    expect(sent?.method).toBe("POST");
    expect(sent?.redirect).toBe("manual");
    const expected = new Uint8Array([...BINARY, ...BINARY, ...BINARY, 13, 10, 0]);
    expect(sent?.body).toEqual(expected);
  });

  it("sends a str body as UTF-8 and an empty body as an empty body, not none", async () => {
    const h = host(() => reply({ body: new Uint8Array() }));
    await py(
      `from sandbox import http
http.put("https://a.example/", body="héllo")
http.post("https://a.example/", body=b"")
http.delete("https://a.example/")`,
      h.http,
    );
    expect(h.calls.map((c) => [c.method, c.body === undefined ? null : Buffer.from(c.body).toString()])).toEqual([
      ["PUT", "héllo"],
      ["POST", ""],
      ["DELETE", null],
    ]);
  });

  it("a 404 is a response, not an error", async () => {
    const h = host(() => reply({ status: 404, statusText: "Not Found", body: new TextEncoder().encode("nope") }));
    const r = await py(
      `from sandbox import http
r = http.get("https://a.example/missing")
print(r.status, r.ok, r.text())
try:
    r.raise_for_status()
except http.HTTPStatusError as e:
    print("raised", e)`,
      h.http,
    );
    expect(r.stdout).toBe("404 False nope\nraised 404 Not Found for https://api.example.com/data\n");
  });

  it("a refusal raises EgressError carrying the code", async () => {
    const h = host(() => ({ ok: false, code: "APPROVAL_DENIED", message: "A human denied this request." }));
    const r = await py(
      `from sandbox import http
try:
    http.get("https://a.example/")
except http.EgressError as e:
    print(e.code, "|", e.message, "|", e, "|", isinstance(e, OSError))`,
      h.http,
    );
    expect(r.stdout).toBe(
      "APPROVAL_DENIED | A human denied this request. | APPROVAL_DENIED: A human denied this request. | True\n",
    );
    expect(r.exitCode).toBe(0);
  });

  it("an uncaught refusal ends the script with a readable traceback", async () => {
    const h = host(() => ({
      ok: false,
      code: "EGRESS_DENIED",
      message: "The egress policy does not allow this request.",
    }));
    const r = await py(`import sandbox\nsandbox.http.get("https://a.example/")`, h.http);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      "sandbox.http.EgressError: EGRESS_DENIED: The egress policy does not allow this request.",
    );
  });

  it("invalid arguments raise TypeError / ValueError and never reach the host", async () => {
    const h = host();
    const r = await py(
      `from sandbox import http
cases = [
    lambda: http.request(1, "https://a/"),
    lambda: http.request("GET /x", "https://a/"),
    lambda: http.get(b"https://a/"),
    lambda: http.get(""),
    lambda: http.get("https://a/" + "x" * 9000),
    lambda: http.get("https://a/", headers={"X": 1}),
    lambda: http.get("https://a/", headers=[("X",)]),
    lambda: http.get("https://a/", headers="X: 1"),
    lambda: http.get("https://a/", headers={"X": "a\\r\\nInjected: 1"}),
    lambda: http.get("https://a/", headers={"Bad Name": "v"}),
    lambda: http.post("https://a/", body=12),
    lambda: http.post("https://a/", body={"a": 1}),
    lambda: http.post("https://a/", body=b"x" * (http.MAX_BODY_BYTES + 1)),
    lambda: http.get("https://a/", redirect="error"),
]
for case in cases:
    try:
        case()
        print("accepted")
    except (TypeError, ValueError) as e:
        print(type(e).__name__)`,
      h.http,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual([
      "TypeError",
      "ValueError",
      "TypeError",
      "ValueError",
      "ValueError",
      "TypeError",
      "TypeError",
      "TypeError",
      "ValueError",
      "ValueError",
      "TypeError",
      "TypeError",
      "ValueError",
      "ValueError",
    ]);
    expect(h.calls).toHaveLength(0);
  });
});

describe("urllib.request through the host", () => {
  it("urlopen 200: body, status, headers, final URL", async () => {
    const h = host(() =>
      reply({
        headers: [
          ["Content-Type", "text/plain"],
          ["X-Multi", "a"],
          ["X-Multi", "b"],
        ],
        body: new TextEncoder().encode("hello"),
        url: "https://a.example/final",
        redirected: true,
      }),
    );
    const r = await py(
      `import urllib.request
req = urllib.request.Request("https://a.example/start", data=b"q=1", headers={"X-Key": "k"}, method="PUT")
with urllib.request.urlopen(req) as resp:
    print(resp.status, resp.reason, resp.geturl(), resp.read())
    print(resp.headers["content-type"], resp.headers.get_all("X-Multi"), resp.getheader("X-Multi"))`,
      h.http,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("200 OK https://a.example/final b'hello'\ntext/plain ['a', 'b'] a\n");
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]).toMatchObject({ method: "PUT", url: "https://a.example/start", redirect: "follow" });
    expect(Buffer.from(h.calls[0]?.body ?? []).toString()).toBe("q=1");
    const names = (h.calls[0]?.headers ?? []).map(([n]) => n.toLowerCase());
    expect(names).toContain("x-key");
    expect(names).not.toContain("host");
  });

  it("urlopen 404 raises HTTPError with the response readable", async () => {
    const h = host(() => reply({ status: 404, statusText: "Not Found", body: new TextEncoder().encode("missing") }));
    const r = await py(
      `import urllib.request, urllib.error
try:
    urllib.request.urlopen("http://a.example/x")
except urllib.error.HTTPError as e:
    print("HTTPError", e.code, e.reason, e.read())`,
      h.http,
    );
    expect(r.stdout).toBe("HTTPError 404 Not Found b'missing'\n");
  });

  it("a refusal raises URLError whose reason carries the code", async () => {
    const h = host(() => ({ ok: false, code: "DRY_RUN", message: "Dry run: the request was not sent." }));
    const r = await py(
      `import urllib.request, urllib.error
try:
    urllib.request.urlopen("https://a.example/")
except urllib.error.HTTPError:
    print("wrong")
except urllib.error.URLError as e:
    print("URLError", e.reason.code, "|", e)`,
      h.http,
    );
    expect(r.stdout).toBe("URLError DRY_RUN | <urlopen error DRY_RUN: Dry run: the request was not sent.>\n");
  });

  it("a hand-built opener uses the host too", async () => {
    const h = host(() => reply({ body: new TextEncoder().encode("via opener") }));
    const r = await py(
      `import urllib.request
opener = urllib.request.build_opener()
print(opener.open("https://a.example/").read())`,
      h.http,
    );
    expect(r.stdout).toBe("b'via opener'\n");
    expect(h.calls).toHaveLength(1);
  });
});

describe("freshness and the device", () => {
  it("sandbox is in the snapshot; urllib.request is not (it is routed when imported)", async () => {
    const r = await py(
      `import sys\nprint("sandbox.http" in sys.modules, "urllib.request" in sys.modules)`,
      host().http,
    );
    expect(r.stdout).toBe("True False\n");
  });

  it("nothing of one execution's calls or patches reaches the next", async () => {
    const first = host();
    const a = await py(
      `import os, sandbox
from sandbox import http
keep = os.open("/dev/sandbox/http", os.O_RDWR)
os.write(keep, b'{"method":"GET","url":"https://a/","headers":[],"redirect":"follow","bodyLength":null}\\n')
http.request = lambda *a, **k: "patched"
sandbox.marker = 1
print(keep, http.get("https://a/"))`,
      first.http,
    );
    expect(a.stdout).toMatch(/^\d+ patched\n$/);
    const fd = Number(a.stdout.split(" ")[0]);
    const second = host();
    const b = await py(
      `import os, sandbox
from sandbox import http
print(hasattr(sandbox, "marker"), http.get("https://b/").status)
try:
    os.read(${fd}, 100)
    print("fd open")
except OSError as e:
    print("fd closed", e.errno)`,
      second.http,
    );
    expect(b.stderr).toBe("");
    expect(b.stdout).toBe("False 200\nfd closed 8\n");
    expect(first.calls).toHaveLength(0);
    expect(second.calls.map((c) => c.url)).toEqual(["https://b/"]);
  });

  it("the device only speaks the protocol: garbage, reuse, writes after reading", async () => {
    const h = host();
    const r = await py(
      `import os, errno
P = "/dev/sandbox/http"
fd = os.open(P, os.O_RDWR)
os.write(fd, b"GET / HTTP/1.1\\r\\n\\r\\n")
print(os.read(fd, 4096))
try:
    os.write(fd, b"again")
except OSError as e:
    print("write after read:", type(e).__name__, e.errno == errno.EPIPE)
os.close(fd)
a, b = os.open(P, os.O_RDWR), os.open(P, os.O_WRONLY | os.O_TRUNC)
print(a != b, os.read(a, 200)[:40])
try:
    os.lseek(b, 0, 0)
except OSError as e:
    print("seek:", errno.errorcode[e.errno])
for bad in (lambda: os.remove(P), lambda: open("/dev/sandbox/other", "w"), lambda: os.rename(P, "/workspace/x")):
    try:
        bad()
        print("allowed")
    except OSError as e:
        print(type(e).__name__)
print(sorted(os.listdir("/dev/sandbox")))`,
      h.http,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      `b'{"ok":false,"code":"EGRESS_INVALID_REQUEST","message":"The request is malformed: the head is not UTF-8 JSON."}\\n'\n` +
        "write after read: BrokenPipeError True\n" +
        `True b'{"ok":false,"code":"EGRESS_INVALID_REQUE'\n` +
        "seek: ESPIPE\n" +
        "OSError\nOSError\nOSError\n" +
        "['http']\n",
    );
    expect(h.calls).toHaveLength(0);
    expect(r.files.map((f) => f.path)).toEqual(["main.py"]);
  });
});

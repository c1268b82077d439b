/**
 * `Sandbox::HTTP` in the real interpreter, in-process, with a fake synchronous host call that
 * records what it was asked and answers canned replies.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { GuestHttpReply, GuestHttpRequest } from "../../src/sandbox/host-call.js";
import type { Runner } from "../../src/sandbox/wasm/runtime.js";
import { recordingHost } from "../../test/support/fake-host.js";
import { createTestRunner, request, runInProcess } from "../../test/support/wasm-runner.js";
import { rubyWasmRuntime } from "./wasm.js";

let runner: Runner;

beforeAll(async () => {
  runner = await createTestRunner(rubyWasmRuntime);
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

async function rb(code: string, http: (r: GuestHttpRequest) => GuestHttpReply) {
  return runInProcess(runner, request("ruby", code), {}, http);
}

describe("Sandbox::HTTP", () => {
  it("GET with headers; the binary body, status and headers come back intact", async () => {
    const h = host(() =>
      reply({
        headers: [
          ["Content-Type", "application/octet-stream"],
          ["X-Multi", "a"],
          ["X-Multi", "b"],
        ],
        redirected: true,
      }),
    );
    const r = await rb(
      `r = Sandbox::HTTP.get("https://api.example.com/data", headers: { "Accept" => "*/*", :"X-Trace" => "t1" })
puts [r.status, r.reason, r.ok?, r.url, r.redirected?].inspect
puts r["content-type"], r["X-MULTI"], r.headers.inspect, r.header_pairs.size
puts r.body == (0..255).to_a.pack("C*"), r.body.encoding, r.body.bytesize`,
      h.http,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      '[200, "OK", true, "https://api.example.com/data", true]\n' +
        "application/octet-stream\na, b\n" +
        '{"content-type" => "application/octet-stream", "x-multi" => "a, b"}\n3\n' +
        "true\nASCII-8BIT\n256\n",
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
    const r = await rb(
      `body = ((0..255).to_a.pack("C*") * 3) + "\\r\\n\\0"
r = Sandbox::HTTP.post("https://api.example.com/up", body, headers: [["Content-Type", "application/octet-stream"]])
puts r.status, r.json["id"], r.text`,
      h.http,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('201\n7\n{"id": 7}\n');
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]?.method).toBe("POST");
    expect(h.calls[0]?.body).toEqual(new Uint8Array([...BINARY, ...BINARY, ...BINARY, 13, 10, 0]));
  });

  it("sends a UTF-8 body as its bytes, an empty body as empty, none as none; redirect: :manual", async () => {
    const h = host(() => reply({ status: 302, statusText: "Found", body: new Uint8Array() }));
    const r = await rb(
      `puts Sandbox::HTTP.put("https://a.example/", "héllo").status
Sandbox::HTTP.post("https://a.example/", "")
Sandbox::HTTP.request(:delete, "https://a.example/", redirect: :manual)`,
      h.http,
    );
    expect(r.stdout).toBe("302\n");
    expect(
      h.calls.map((c) => [c.method, c.redirect, c.body === undefined ? null : Buffer.from(c.body).toString()]),
    ).toEqual([
      ["PUT", "follow", "héllo"],
      ["POST", "follow", ""],
      ["DELETE", "manual", null],
    ]);
  });

  it("a refusal raises Sandbox::HTTP::Error carrying the code", async () => {
    const h = host(() => ({
      ok: false,
      code: "EGRESS_DENIED",
      message: "The egress policy does not allow this request.",
    }));
    const r = await rb(
      `begin
  Sandbox::HTTP.get("https://a.example/")
rescue Sandbox::HTTP::Error => e
  puts [e.code, e.reason, e.message, e.is_a?(StandardError)].inspect
end
Sandbox::HTTP.get("https://a.example/")`,
      h.http,
    );
    expect(r.stdout).toBe(
      '["EGRESS_DENIED", "The egress policy does not allow this request.", ' +
        '"EGRESS_DENIED: The egress policy does not allow this request.", true]\n',
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("EGRESS_DENIED: The egress policy does not allow this request. (Sandbox::HTTP::Error)");
  });

  it("invalid arguments raise TypeError / ArgumentError and never reach the host", async () => {
    const h = host();
    const r = await rb(
      `cases = [
  -> { Sandbox::HTTP.request(1, "https://a/") },
  -> { Sandbox::HTTP.request("GET /x", "https://a/") },
  -> { Sandbox::HTTP.get(:"https://a/") },
  -> { Sandbox::HTTP.get("") },
  -> { Sandbox::HTTP.get("https://a/" + "x" * 9000) },
  -> { Sandbox::HTTP.get("https://a/", headers: { "X" => 1 }) },
  -> { Sandbox::HTTP.get("https://a/", headers: [["X"]]) },
  -> { Sandbox::HTTP.get("https://a/", headers: "X: 1") },
  -> { Sandbox::HTTP.get("https://a/", headers: { "X" => "a\\r\\nInjected: 1" }) },
  -> { Sandbox::HTTP.get("https://a/", headers: { "Bad Name" => "v" }) },
  -> { Sandbox::HTTP.get("https://a/", headers: { "X" => "\\xff".b }) },
  -> { Sandbox::HTTP.post("https://a/", 12) },
  -> { Sandbox::HTTP.post("https://a/", "x" * (Sandbox::HTTP::MAX_BODY_BYTES + 1)) },
  -> { Sandbox::HTTP.get("https://a/", redirect: :error) },
]
cases.each do |c|
  c.call
  puts "accepted"
rescue TypeError, ArgumentError => e
  puts e.class
end`,
      h.http,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual([
      "TypeError",
      "ArgumentError",
      "TypeError",
      "ArgumentError",
      "ArgumentError",
      "TypeError",
      "TypeError",
      "TypeError",
      "ArgumentError",
      "ArgumentError",
      "ArgumentError",
      "TypeError",
      "ArgumentError",
      "ArgumentError",
    ]);
    expect(h.calls).toHaveLength(0);
  });
});

describe("freshness and the device", () => {
  it("is defined before the script runs and json is already loaded", async () => {
    const r = await rb(
      `p defined?(Sandbox::HTTP::Response), $LOADED_FEATURES.any? { |f| f.end_with?("json.rb") }`,
      host().http,
    );
    expect(r.stdout).toBe('"constant"\ntrue\n');
  });

  it("nothing of one execution's calls or patches reaches the next", async () => {
    const first = host();
    const a = await rb(
      `io = File.open("/dev/sandbox/http", "r+b")
io.syswrite(%q({"method":"GET","url":"https://a/","headers":[],"redirect":"follow","bodyLength":null}) + "\\n")
module Sandbox::HTTP
  def self.request(*) = "patched"
end
Sandbox.const_set(:MARKER, 1)
puts io.fileno, Sandbox::HTTP.get("https://a/")`,
      first.http,
    );
    expect(a.stderr).toBe("");
    const [fd, patched] = a.stdout.trim().split("\n");
    expect(patched).toBe("patched");
    const second = host();
    const b = await rb(
      `puts defined?(Sandbox::MARKER).inspect, Sandbox::HTTP.get("https://b/").status
begin
  IO.for_fd(${Number(fd)}, "r+b", autoclose: false).sysread(100)
  puts "fd open"
rescue SystemCallError => e
  puts e.class
end`,
      second.http,
    );
    expect(b.stderr).toBe("");
    expect(b.stdout).toBe("nil\n200\nErrno::EBADF\n");
    expect(first.calls).toHaveLength(0);
    expect(second.calls.map((c) => c.url)).toEqual(["https://b/"]);
  });

  it("the device only speaks the protocol: garbage, reuse, writes after reading", async () => {
    const h = host();
    const r = await rb(
      `P = "/dev/sandbox/http"
File.open(P, "r+b") do |io|
  io.syswrite("GET / HTTP/1.1\\r\\n\\r\\n")
  puts io.sysread(4096)
  begin
    io.syswrite("again")
  rescue SystemCallError => e
    puts e.class
  end
end
a = File.open(P, "r+b")
b = File.open(P, "wb")
puts a.fileno != b.fileno, a.sysread(40)
[-> { File.delete(P) }, -> { File.write("/dev/sandbox/other", "x") }, -> { File.rename(P, "/workspace/x") }].each do |c|
  c.call
  puts "allowed"
rescue SystemCallError => e
  puts e.class
end
puts Dir.children("/dev/sandbox").inspect`,
      h.http,
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      '{"ok":false,"code":"EGRESS_INVALID_REQUEST","message":"The request is malformed: the head is not UTF-8 JSON."}\n' +
        "Errno::EPIPE\n" +
        'true\n{"ok":false,"code":"EGRESS_INVALID_REQUE\n' +
        "Errno::EROFS\nErrno::EROFS\nErrno::EROFS\n" +
        '["http"]\n',
    );
    expect(h.calls).toHaveLength(0);
    expect(r.files).toEqual([]);
  });
});

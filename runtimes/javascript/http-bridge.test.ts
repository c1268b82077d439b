/**
 * The host function behind fetch, called directly with what a guest that subverted its own prelude
 * could pass: wrong types, objects with toString/getters, Proxies, oversized bodies. The host must
 * refuse without calling RunContext.http, run no guest code, and never throw.
 */
import { getQuickJS, type QuickJSContext, type QuickJSHandle } from "quickjs-emscripten";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GuestHttpReply, GuestHttpRequest } from "../../src/sandbox/host-call.js";
import { MAX_GUEST_REQUEST_BODY_BYTES } from "../../src/sandbox/host-call.js";
import { GuestLimitError } from "../../wasm/host/guest-limit.js";
import { httpCall } from "./http-bridge.js";

let vm: QuickJSContext;
beforeAll(async () => {
  vm = (await getQuickJS()).newContext();
});
afterAll(() => vm.dispose());

function decode(handle: QuickJSHandle): Record<string, unknown> & { body: Uint8Array } {
  const bytes = vm.getArrayBuffer(handle).consume((v) => v.value.slice());
  handle.dispose();
  const length = new DataView(bytes.buffer).getUint32(0, true);
  const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))) as Record<string, unknown>;
  return { ...meta, body: bytes.subarray(4 + length) };
}

function call(argsSource: string, answer?: (r: GuestHttpRequest) => GuestHttpReply) {
  const calls: GuestHttpRequest[] = [];
  const limits: unknown[] = [];
  const target = {
    http(request: GuestHttpRequest): GuestHttpReply {
      calls.push(request);
      return answer ? answer(request) : { ok: false, code: "EGRESS_DENIED", message: "no" };
    },
    onLimit(error: unknown) {
      limits.push(error);
    },
  };
  const args = vm.unwrapResult(vm.evalCode(argsSource));
  const handles = [0, 1, 2, 3, 4].map((i) => vm.getProp(args, i));
  args.dispose();
  try {
    return { reply: decode(httpCall(vm, target, handles)), calls, limits };
  } finally {
    for (const h of handles) h.dispose();
  }
}

const ran = () => vm.getNumber(vm.unwrapResult(vm.evalCode("globalThis.sideEffects | 0")));

describe("javascript http bridge", () => {
  it("passes well-formed plain data to the host, body bytes included", () => {
    const { reply, calls } = call(
      `["POST", "https://a.example/", '[["x-a","1"]]', new Uint8Array([0, 255, 7]).buffer, "manual"]`,
      (r) => ({
        ok: true,
        status: 200,
        statusText: "OK",
        headers: [["a", "b"]],
        body: new Uint8Array([9, 0]),
        url: r.url,
        redirected: false,
      }),
    );
    expect(calls).toEqual([
      {
        method: "POST",
        url: "https://a.example/",
        headers: [["x-a", "1"]],
        body: new Uint8Array([0, 255, 7]),
        redirect: "manual",
      },
    ]);
    expect(reply).toMatchObject({ ok: true, status: 200, headers: [["a", "b"]], url: "https://a.example/" });
    expect([...reply.body]).toEqual([9, 0]);
  });

  it("refuses malformed arguments without calling the host or running guest code", () => {
    const sneaky = `globalThis.sideEffects = 0; const bump = () => { globalThis.sideEffects++; return "GET"; };`;
    vm.unwrapResult(vm.evalCode(sneaky)).dispose();
    const cases = [
      `[{ toString: bump }, "https://a/", "[]", undefined, "follow"]`,
      `["GET", { toString: bump }, "[]", undefined, "follow"]`,
      `["GET", "https://a/", { toString: bump }, undefined, "follow"]`,
      `["GET", "https://a/", "[]", undefined, { toString: bump }]`,
      `["GET", "https://a/", "[]", undefined, "sometimes"]`,
      `["GET", "https://a/", '{"not":"a list"}', undefined, "follow"]`,
      `["GET", "https://a/", '[["a"]]', undefined, "follow"]`,
      `["GET", "https://a/", '[["a", 1]]', undefined, "follow"]`,
      `["GET", "https://a/", "not json", undefined, "follow"]`,
      `["POST", "https://a/", "[]", { byteLength: 3 }, "follow"]`,
      `["POST", "https://a/", "[]", new Proxy(new ArrayBuffer(2), { get() { bump(); } }), "follow"]`,
      `["POST", "https://a/", "[]", new Uint8Array(2), "follow"]`,
      `["POST", "https://a/", "[]", "a string body", "follow"]`,
      `["POST", "https://a/", "[]", new ArrayBuffer(${MAX_GUEST_REQUEST_BODY_BYTES + 1}), "follow"]`,
      `["", "https://a/", "[]", undefined, "follow"]`,
      `["GET", "https://a/" + "x".repeat(9000), "[]", undefined, "follow"]`,
    ];
    for (const source of cases) {
      const { reply, calls } = call(source);
      expect(calls, source).toHaveLength(0);
      expect(reply.ok, source).toBe(false);
      expect(reply.code, source).toBe("EGRESS_INVALID_REQUEST");
    }
    expect(ran()).toBe(0);
  });

  it("turns a host failure while waiting into a stop request, not a guest-visible host error", () => {
    const error = new GuestLimitError("TIMEOUT", "cancelled");
    const { reply, limits } = call(`["GET", "https://a/", "[]", undefined, "follow"]`, () => {
      throw error;
    });
    expect(limits).toEqual([error]);
    expect(reply).toMatchObject({ ok: false, code: "EGRESS_ABORTED" });
    expect(JSON.stringify(reply)).not.toContain("cancelled");
  });
});

/**
 * The QuickJS shims, evaluated alone in a plain QuickJS context (no bundle): each must behave like
 * its web counterpart for what just-bash uses, and none may give the guest a way to the host.
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { newQuickJSWASMModule, type QuickJSContext, type QuickJSWASMModule } from "quickjs-emscripten";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SHIM_ORDER } from "./bundle.js";

const SHIMS_DIR = join(dirname(fileURLToPath(import.meta.url)), "shims");

let quickjs: QuickJSWASMModule;
let shims: string;
let context: QuickJSContext;

beforeAll(async () => {
  quickjs = await newQuickJSWASMModule();
  const sources = await Promise.all(SHIM_ORDER.map((name) => readFile(join(SHIMS_DIR, name), "utf8")));
  shims = sources.join("\n");
});

beforeEach(() => {
  context = quickjs.newContext();
  context.unwrapResult(context.evalCode(shims, "shims.js")).dispose();
});

afterEach(() => {
  context.dispose();
});

/** Evaluate an expression inside QuickJS and bring its JSON-able value out. */
function guest(code: string): unknown {
  const handle = context.unwrapResult(context.evalCode(`JSON.stringify((() => { ${code} })())`));
  try {
    const json = context.getString(handle);
    return json === undefined ? undefined : JSON.parse(json);
  } finally {
    handle.dispose();
  }
}

/** Run pending jobs (promise reactions) and read a global the code stored its result in. */
function settle(code: string): unknown {
  context.unwrapResult(context.evalCode(code)).dispose();
  context.runtime.executePendingJobs(1000);
  return guest("return globalThis.out;");
}

describe("encoding", () => {
  it("round-trips UTF-8 including astral characters", () => {
    expect(guest('return Array.from(new TextEncoder().encode("hé😀"));')).toEqual([104, 195, 169, 240, 159, 152, 128]);
    expect(guest('return new TextDecoder().decode(new TextEncoder().encode("hé😀 ünïcode"));')).toBe("hé😀 ünïcode");
  });

  it("replaces invalid UTF-8 unless fatal, and strips a BOM", () => {
    expect(guest("return new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62, 0xc3]));")).toBe("a\uFFFDb\uFFFD");
    expect(
      guest(
        'try { new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xff])); return "no"; } catch (e) { return e instanceof TypeError; }',
      ),
    ).toBe(true);
    expect(guest("return new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]));")).toBe("A");
    expect(guest('return new TextDecoder("latin1").decode(new Uint8Array([0xe9, 0x41]));')).toBe("éA");
  });

  it("encodes lone surrogates as U+FFFD", () => {
    expect(guest('return Array.from(new TextEncoder().encode("\\ud800x"));')).toEqual([0xef, 0xbf, 0xbd, 0x78]);
  });
});

describe("base64 and Buffer", () => {
  it("round-trips atob/btoa and Buffer encodings", () => {
    expect(guest('return btoa("hello\\xff");')).toBe("aGVsbG//");
    expect(guest('return atob("aGVsbG//");')).toBe("hello\xff");
    expect(guest('return Buffer.from("héllo", "utf8").toString("base64");')).toBe(
      Buffer.from("héllo").toString("base64"),
    );
    expect(guest('return Buffer.from("aGk=", "base64").toString("latin1");')).toBe("hi");
    expect(guest('return Buffer.from(new Uint8Array([1, 171])).toString("hex");')).toBe("01ab");
  });

  it("rejects non-latin1 input to btoa", () => {
    expect(guest('try { btoa("😀"); return "no"; } catch (e) { return String(e.message); }')).toMatch(/latin1/);
  });
});

describe("crypto", () => {
  it("computes SHA-256 and SHA-1 digests", () => {
    const hex = (alg: string, text: string) =>
      settle(
        `crypto.subtle.digest("${alg}", new TextEncoder().encode(${JSON.stringify(text)})).then((d) => { globalThis.out = Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join(""); });`,
      );
    expect(hex("SHA-256", "abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex("SHA-1", "abc")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    const long = "a".repeat(1000);
    expect(hex("SHA-256", long)).toBe("41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  });

  it("rejects digests it does not implement", () => {
    expect(
      settle('crypto.subtle.digest("SHA-512", new Uint8Array(1)).catch((e) => { globalThis.out = e.name; });'),
    ).toBe("NotSupportedError");
  });

  it("fills integer arrays from the reseeded generator", () => {
    const draw = () =>
      guest("__sandbox.reseed(1, 2, 3, 4); return Array.from(crypto.getRandomValues(new Uint8Array(8)));");
    expect(draw()).toEqual(draw());
    expect(
      guest("__sandbox.reseed(5, 6, 7, 8); return Array.from(crypto.getRandomValues(new Uint8Array(8)));"),
    ).not.toEqual(draw());
    expect(guest("return crypto.randomUUID();")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe("random", () => {
  it("is deterministic per seed and differs across seeds", () => {
    const sequence = (seed: string) =>
      guest(`__sandbox.reseed(${seed}); return [Math.random(), Math.random(), Math.random()];`);
    expect(sequence("1, 2, 3, 4")).toEqual(sequence("1, 2, 3, 4"));
    expect(sequence("1, 2, 3, 4")).not.toEqual(sequence("1, 2, 3, 5"));
    const values = guest(
      "__sandbox.reseed(9, 9, 9, 9); return Array.from({ length: 1000 }, () => Math.random());",
    ) as number[];
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(values).size).toBe(1000);
  });
});

describe("timers", () => {
  it("runs due timers in order of due time, only when the host says they are due", () => {
    context
      .unwrapResult(
        context.evalCode(
          'globalThis.log = []; const now = Date.now(); setTimeout(() => log.push("b"), 50); setTimeout(() => log.push("a"), 10); const id = setTimeout(() => log.push("x"), 20); clearTimeout(id); globalThis.t0 = now;',
        ),
      )
      .dispose();
    expect(guest("return __sandbox.timers.runDue(globalThis.t0, 10);")).toBe(0);
    expect(guest("return __sandbox.timers.runDue(globalThis.t0 + 1000, 10);")).toBe(2);
    expect(guest("return log;")).toEqual(["a", "b"]);
    expect(guest("return __sandbox.timers.nextDue();")).toBe(-1);
  });

  it("drops exceptions thrown by a timer callback", () => {
    expect(
      guest(
        'setTimeout(() => { throw new Error("x"); }, 0); setTimeout(() => { globalThis.after = 1; }, 0); __sandbox.timers.runDue(Date.now() + 1, 10); return globalThis.after;',
      ),
    ).toBe(1);
  });
});

describe("abort, clone, console", () => {
  it("aborts a signal and notifies listeners once", () => {
    expect(
      guest(
        'const c = new AbortController(); let n = 0; c.signal.addEventListener("abort", () => n++); c.abort(); c.abort(); return [c.signal.aborted, c.signal.reason.name, n];',
      ),
    ).toEqual([true, "AbortError", 1]);
    expect(guest('const s = AbortSignal.any([AbortSignal.abort("r")]); return [s.aborted, s.reason];')).toEqual([
      true,
      "r",
    ]);
  });

  it("clones cycles, maps and typed arrays, and refuses functions", () => {
    expect(
      guest(
        "const a = { m: new Map([[1, new Uint8Array([7])]]) }; a.self = a; const b = structuredClone(a); return [b !== a, b.self === b, b.m.get(1)[0], b.m.get(1) !== a.m.get(1)];",
      ),
    ).toEqual([true, true, 7, true]);
    expect(guest("try { structuredClone(() => 1); return 'no'; } catch (e) { return e.name; }")).toBe("DataCloneError");
  });

  it("swallows console output", () => {
    expect(guest('console.log("x"); console.error("y"); return typeof console.log;')).toBe("function");
  });
});

describe("no way to the host", () => {
  it("exposes no Node or host globals", () => {
    expect(
      guest(
        "return [typeof require, typeof process, typeof module, typeof fetch, typeof XMLHttpRequest, typeof WebSocket, typeof std, typeof os];",
      ),
    ).toEqual(Array(8).fill("undefined"));
  });
});

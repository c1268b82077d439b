import { describe, expect, it } from "vitest";
import { encodeRunRequest } from "./guest.js";

const fields = (bytes: Uint8Array): string[] => new TextDecoder().decode(bytes).split("\0");

describe("encodeRunRequest", () => {
  it("lays out cwd, argc, argv, envc, env as NUL-terminated fields", () => {
    const bytes = encodeRunRequest({
      cwd: "/workspace",
      argv: ["/workspace/main.py", "a b", ""],
      env: { A: "1", B: "x=y" },
    });
    expect(fields(bytes)).toEqual(["/workspace", "3", "/workspace/main.py", "a b", "", "2", "A=1", "B=x=y", ""]);
    expect(bytes.at(-1)).toBe(0);
  });

  it("cuts values at NUL and leaves out names no environment can hold", () => {
    const bytes = encodeRunRequest({
      cwd: "/workspace",
      argv: ["/workspace/main.py", "ab\0cd"],
      env: { OK: "v\0hidden", "": "empty", "A=B": "eq", "N\0UL": "nul" },
    });
    expect(fields(bytes)).toEqual(["/workspace", "2", "/workspace/main.py", "ab", "1", "OK=v", ""]);
  });

  it("appends the source as its byte length, the bytes (NULs and all) and a NUL", () => {
    const source = new TextEncoder().encode("print('é')\0x");
    const bytes = encodeRunRequest({ cwd: "/w", argv: ["/w/main.py"], env: {}, source });
    const head = new TextEncoder().encode("/w\x001\x00/w/main.py\x000\x0013\x00");
    expect(source.byteLength).toBe(13);
    expect(bytes.subarray(0, head.byteLength)).toEqual(head);
    expect(bytes.subarray(head.byteLength, head.byteLength + 13)).toEqual(source);
    expect(bytes.byteLength).toBe(head.byteLength + 14);
    expect(bytes.at(-1)).toBe(0);
  });
});

import { createHash } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { constantTimeEqual, findDigest, sha256 } from "./key-digest.js";

describe("constantTimeEqual", () => {
  it("hashes both sides before comparing", () => {
    const digest = vi.fn(sha256);
    expect(constantTimeEqual("presented-key", "stored-key", digest)).toBe(false);
    expect(digest.mock.calls.map((call) => call[0])).toEqual(["presented-key", "stored-key"]);
  });

  it("compares inputs of different lengths without throwing (timingSafeEqual alone would)", () => {
    expect(constantTimeEqual("a", "a much longer key than the other")).toBe(false);
    expect(constantTimeEqual("", "x")).toBe(false);
    expect(constantTimeEqual("same-key-value", "same-key-value")).toBe(true);
  });
});

describe("findDigest", () => {
  const hex = (s: string) => createHash("sha256").update(s).digest();

  it("hashes the presented key and finds the matching stored digest", () => {
    const digest = vi.fn(sha256);
    const stored = [hex("first"), hex("second"), hex("third")];
    expect(findDigest("second", stored, digest)).toBe(1);
    expect(digest).toHaveBeenCalledWith("second");
    expect(findDigest("fourth", stored)).toBe(-1);
    expect(findDigest("", stored)).toBe(-1);
  });

  it("never matches a stored value that is not a 32-byte digest", () => {
    expect(findDigest("short", [Buffer.from("short")])).toBe(-1);
  });
});

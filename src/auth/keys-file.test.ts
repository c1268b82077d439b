import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KeyRing } from "./key-ring.js";
import { KeysFileError, parseKeysFile } from "./keys-file.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("API keys file", () => {
  it("parses plaintext and hashed entries into a ring that authenticates both", () => {
    const entries = parseKeysFile(
      JSON.stringify([
        { name: "agent", key: "agent-key-0123456789", scopes: ["execute"] },
        { name: "ops", keySha256: sha("ops-key-0123456789ab").toUpperCase(), scopes: ["admin", "approve"] },
      ]),
      "keys.json",
    );
    const ring = new KeyRing(entries);
    expect(ring.authenticate("agent-key-0123456789")?.name).toBe("agent");
    expect([...(ring.authenticate("ops-key-0123456789ab")?.scopes ?? [])]).toEqual(["admin", "approve"]);
    expect(ring.authenticate("agent-key-012345678")).toBeUndefined();
    expect(ring.names()).toEqual(["agent", "ops"]);
  });

  it.each([
    ["not JSON", "{", "not valid JSON"],
    [
      "both key and keySha256",
      [{ name: "a", key: "0123456789abcdef", keySha256: sha("x"), scopes: ["execute"] }],
      "exactly one",
    ],
    ["neither", [{ name: "a", scopes: ["execute"] }], "exactly one"],
    ["a short key", [{ name: "a", key: "short", scopes: ["execute"] }], "at least 16"],
    ["an unknown scope", [{ name: "a", key: "0123456789abcdef", scopes: ["root"] }], "scopes"],
    ["no scope", [{ name: "a", key: "0123456789abcdef", scopes: [] }], "at least one scope"],
    ["an unknown field", [{ name: "a", key: "0123456789abcdef", scopes: ["execute"], extra: 1 }], "extra"],
    [
      "a duplicate name",
      [
        { name: "a", key: "0123456789abcdef", scopes: ["execute"] },
        { name: "a", key: "fedcba9876543210", scopes: ["execute"] },
      ],
      "twice",
    ],
  ])("refuses %s", (_name, content, message) => {
    const text = typeof content === "string" ? content : JSON.stringify(content);
    expect(() => parseKeysFile(text, "keys.json")).toThrow(KeysFileError);
    expect(() => parseKeysFile(text, "keys.json")).toThrow(message);
  });

  it("never echoes a key in its errors", () => {
    const text = JSON.stringify([{ name: "a", key: "has a space but long", scopes: ["execute"] }]);
    expect(() => parseKeysFile(text, "keys.json")).toThrow(KeysFileError);
    try {
      parseKeysFile(text, "keys.json");
    } catch (error) {
      expect((error as Error).message).not.toContain("has a space");
    }
  });

  it("refuses two entries with the same key", () => {
    const entries = parseKeysFile(
      JSON.stringify([
        { name: "a", key: "same-key-0123456789", scopes: ["execute"] },
        { name: "b", keySha256: sha("same-key-0123456789"), scopes: ["execute"] },
      ]),
      "keys.json",
    );
    expect(() => new KeyRing(entries)).toThrow("duplicates");
  });
});

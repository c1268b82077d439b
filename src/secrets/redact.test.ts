import { describe, expect, it } from "vitest";
import { Redactor } from "./redact.js";

const VALUE = "s3cr3t-Value-For-Tests-9f2c";
const AWS_KEY = ["AKIA", "Q3EGT7XZ5MBN2WLP"].join("");

describe("output redaction", () => {
  const redactor = new Redactor([{ name: "DB_PASSWORD", value: VALUE }]);

  it("replaces a configured value wherever it appears, and counts it", () => {
    const { text, counts } = redactor.text(`pw=${VALUE}\nagain ${VALUE}!`);
    expect(text).toBe("pw=[REDACTED:secret:DB_PASSWORD]\nagain [REDACTED:secret:DB_PASSWORD]!");
    expect(counts).toEqual({ "secret:DB_PASSWORD": 2 });
  });

  it("replaces the base64, base64url and hex forms of a configured value", () => {
    const bytes = Buffer.from(VALUE);
    for (const form of [bytes.toString("base64"), bytes.toString("base64url"), bytes.toString("hex")]) {
      const { text } = redactor.text(`x ${form} y`);
      expect(text).not.toContain(form);
      expect(text).toContain("[REDACTED:secret:DB_PASSWORD]");
    }
  });

  it("redacts what the detection rules match, only the secret part", () => {
    const { text, counts } = redactor.text(`key: ${AWS_KEY} ok`);
    expect(text).toBe("key: [REDACTED:aws-access-key-id] ok");
    expect(counts).toEqual({ "aws-access-key-id": 1 });
  });

  it("leaves clean output byte for byte", () => {
    const clean = "hello\nworld ✓";
    expect(redactor.text(clean)).toEqual({ text: clean, counts: {} });
    const bytes = new Uint8Array([0, 255, 1, 2]);
    expect(redactor.bytes(bytes).bytes).toBe(bytes);
  });

  it("redacts configured values inside binary files and keeps the other bytes", () => {
    const binary = new Uint8Array([0xff, 0x00, ...Buffer.from(VALUE), 0xfe]);
    const { bytes, counts } = redactor.bytes(binary);
    expect(counts).toEqual({ "secret:DB_PASSWORD": 1 });
    expect(Buffer.from(bytes).includes(Buffer.from(VALUE))).toBe(false);
    expect([...bytes.slice(0, 2)]).toEqual([0xff, 0x00]);
    expect(bytes.at(-1)).toBe(0xfe);
    expect(Buffer.from(bytes).toString("latin1")).toContain("[REDACTED:secret:DB_PASSWORD]");
  });

  it("redacts UTF-8 files like text", () => {
    const { bytes } = redactor.bytes(new TextEncoder().encode(`{"pw":"${VALUE}"}`));
    expect(new TextDecoder().decode(bytes)).toBe('{"pw":"[REDACTED:secret:DB_PASSWORD]"}');
  });
});

import { describe, expect, it } from "vitest";
import { attachCredential, CredentialRedactor } from "./credential.js";
import { EgressFailure } from "./errors.js";

const SECRET = "s3cr3t-value-XYZ";
const lookup = (name: string) => (name === "TOKEN" ? SECRET : undefined);

describe("attachCredential", () => {
  it("builds bearer, basic and custom header credentials", async () => {
    expect((await attachCredential({ secret: "TOKEN", as: "bearer" }, lookup)).attached.header).toEqual([
      "Authorization",
      `Bearer ${SECRET}`,
    ]);
    expect((await attachCredential({ secret: "TOKEN", as: "basic" }, () => "user:pass")).attached.header).toEqual([
      "Authorization",
      `Basic ${Buffer.from("user:pass").toString("base64")}`,
    ]);
    expect(
      (await attachCredential({ secret: "TOKEN", as: "header", header: "X-Api-Key" }, lookup)).attached.header,
    ).toEqual(["X-Api-Key", SECRET]);
  });

  it("fails closed without naming the value when the secret is missing, empty, throws or would inject", async () => {
    const cases = [
      () => undefined,
      () => "",
      () => {
        throw new Error(`vault down ${SECRET}`);
      },
      () => `${SECRET}\r\nHost: evil`,
      async () => undefined,
    ];
    for (const secretValue of cases) {
      const error = await attachCredential({ secret: "TOKEN", as: "bearer" }, secretValue).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EgressFailure);
      expect((error as EgressFailure).error.code).toBe("EGRESS_CREDENTIAL_UNAVAILABLE");
      expect((error as EgressFailure).message).not.toContain(SECRET);
    }
    const none = await attachCredential({ secret: "TOKEN", as: "bearer" }, undefined).catch((e: unknown) => e);
    expect((none as EgressFailure).error.code).toBe("EGRESS_CREDENTIAL_UNAVAILABLE");
  });
});

describe("CredentialRedactor", () => {
  it("redacts the value and its encodings from text and bytes", () => {
    const r = new CredentialRedactor();
    r.add("TOKEN", SECRET);
    const b64 = Buffer.from(SECRET).toString("base64");
    const hex = Buffer.from(SECRET).toString("hex");
    const text = r.text(`a ${SECRET} b ${b64} c ${hex} d ${encodeURIComponent(SECRET)}`);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(b64.replace(/=+$/, ""));
    expect(text).not.toContain(hex);
    expect(text).toContain("[REDACTED:secret:TOKEN]");
    const binary = new Uint8Array([0xff, 0x00, ...Buffer.from(SECRET), 0xfe]);
    const out = r.bytes(binary);
    expect(Buffer.from(out).includes(Buffer.from(SECRET))).toBe(false);
    expect(out[0]).toBe(0xff);
    expect(out.at(-1)).toBe(0xfe);
  });

  it("redacts the password of a basic credential on its own", () => {
    const r = new CredentialRedactor();
    r.add("BASIC", "alice:hunter2-long");
    expect(r.text("pw=hunter2-long")).toBe("pw=[REDACTED:secret:BASIC]");
  });

  it("leaves bytes untouched when nothing matches", () => {
    const r = new CredentialRedactor();
    const input = new Uint8Array([1, 2, 3]);
    expect(r.bytes(input)).toBe(input);
    r.add("TOKEN", SECRET);
    expect(r.bytes(input)).toBe(input);
  });
});

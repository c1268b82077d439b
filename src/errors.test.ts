import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERRORS, ServiceError } from "./errors.js";

function documentedCodes(): Map<string, number> {
  const doc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
  const rows = new Map<string, number>();
  for (const match of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) {
    rows.set(match[1] ?? "", Number(match[2]));
  }
  return rows;
}

describe("error registry", () => {
  it("documents every code with its status, and nothing else", () => {
    const documented = documentedCodes();
    const registered = new Map(Object.values(ERRORS).map((e) => [e.code, e.status]));
    expect(documented.size).toBeGreaterThan(0);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(registered));
  });

  it("keys each definition by its own code", () => {
    for (const [key, def] of Object.entries(ERRORS)) expect(def.code).toBe(key);
  });

  it("gives execution outcomes status 200 and request errors 4xx/5xx", () => {
    for (const def of Object.values(ERRORS)) {
      if (def.outcome) expect(def.status).toBe(200);
      else expect(def.status).toBeGreaterThanOrEqual(400);
    }
  });

  it("carries code, status and a default message on ServiceError", () => {
    const error = new ServiceError("PAYLOAD_TOO_LARGE");
    expect(error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", status: 413, message: ERRORS.PAYLOAD_TOO_LARGE.message });
  });
});

import { describe, expect, it } from "vitest";
import { egressAllows } from "./schema.js";

describe("egressAllows (dry-run mock matching)", () => {
  it("matches a URL prefix on a path boundary, not as a raw string", () => {
    const rule = { urlPrefix: "https://api.example.com", methods: ["GET" as const] };
    expect(egressAllows(rule, "GET", "https://api.example.com/v1/items")).toBe(true);
    expect(egressAllows(rule, "GET", "https://api.example.com.evil.net/")).toBe(false);
    expect(egressAllows(rule, "POST", "https://api.example.com/v1/items")).toBe(false);
  });

  it("matches hosts and wildcards after normalisation", () => {
    expect(egressAllows({ host: "api.example.com", methods: ["GET"] }, "GET", "https://API.example.com./x")).toBe(true);
    expect(egressAllows({ host: "*.example.com", methods: ["GET"] }, "GET", "https://a.example.com/")).toBe(true);
    expect(egressAllows({ host: "*.example.com", methods: ["GET"] }, "GET", "https://example.com.evil.net/")).toBe(
      false,
    );
    expect(egressAllows({ host: "api.example.com", methods: ["GET"] }, "GET", "not a url")).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { egressMockSchema, fromToolMocks, MockTable } from "./mocks.js";
import { parseEgressUrl } from "./url.js";

function target(url: string) {
  const parsed = parseEgressUrl(url);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.target;
}

describe("mocks", () => {
  const table = new MockTable([
    egressMockSchema.parse({ method: "POST", url: "https://api.example.com/v1/items?x=1", status: 201, body: "made" }),
    egressMockSchema.parse({ urlPrefix: "https://api.example.com/v1/", body: "prefix" }),
  ]);

  it("matches the whole normalised URL, or a prefix on a segment boundary", () => {
    expect(table.find(target("https://API.example.com./v1/items?x=1#f"), "POST")?.status).toBe(201);
    expect(table.find(target("https://api.example.com/v1/items?x=2"), "POST")?.body).toBe("prefix");
    expect(table.find(target("https://api.example.com/v1/other"), "GET")?.body).toBe("prefix");
    expect(table.find(target("https://api.example.com/v10"), "GET")).toBeUndefined();
    expect(table.find(target("https://api.example.com.evil.net/v1/x"), "GET")).toBeUndefined();
  });

  it("validates mocks", () => {
    expect(egressMockSchema.safeParse({ url: "ftp://x/" }).success).toBe(false);
    expect(egressMockSchema.safeParse({ url: "https://a/", urlPrefix: "https://a/" }).success).toBe(false);
    expect(egressMockSchema.safeParse({ status: 200 }).success).toBe(false);
    expect(egressMockSchema.safeParse({ url: "https://u:p@a/" }).success).toBe(false);
    expect(egressMockSchema.parse({ url: "https://a/" })).toEqual({
      url: "https://a/",
      status: 200,
      headers: {},
      body: "",
    });
  });

  it("converts the tool registry's mock shape", () => {
    expect(
      fromToolMocks([
        { method: "GET", url: "https://a.example/x", response: { status: 404, headers: { "x-y": "1" }, body: "no" } },
        { url: "not a url" },
      ]),
    ).toEqual([{ method: "GET", url: "https://a.example/x", status: 404, headers: { "x-y": "1" }, body: "no" }]);
  });
});

import { describe, expect, it } from "vitest";
import { compilePolicy, decideEgress } from "./match.js";
import { egressPolicySchema } from "./policy.js";
import { parseEgressUrl } from "./url.js";

function decide(
  policy: unknown,
  method: string,
  url: string,
  options: { approval?: "never" | "always" | "on-effect"; dryRun?: boolean } = {},
) {
  const parsed = parseEgressUrl(url);
  if (!parsed.ok) throw new Error(parsed.reason);
  return decideEgress(compilePolicy(egressPolicySchema.parse(policy)), parsed.target, method, {
    approval: options.approval ?? "never",
    dryRun: options.dryRun ?? false,
  });
}

const kind = (policy: unknown, method: string, url: string) => decide(policy, method, url).decision.decision;

describe("egress policy schema", () => {
  it("takes the issue's contract and fills defaults", () => {
    expect(egressPolicySchema.parse({})).toEqual({ allow: [] });
    expect(
      egressPolicySchema.parse({
        allow: [{ host: "api.example.com", credential: { secret: "API_TOKEN", as: "bearer" } }],
      }),
    ).toEqual({
      allow: [
        {
          host: "api.example.com",
          methods: ["GET"],
          allowPrivate: false,
          credential: { secret: "API_TOKEN", as: "bearer" },
        },
      ],
    });
  });

  it("accepts the rules the tool policy stores today (network.egress) as they are", () => {
    const stored = [
      { host: "api.example.com", methods: ["GET"] },
      { host: "*.example.com:8443", methods: ["GET", "POST"] },
      { urlPrefix: "https://hooks.example.com/v1/", methods: ["POST"] },
    ];
    const parsed = egressPolicySchema.parse({ allow: stored });
    expect(parsed.allow.map((r) => r.allowPrivate)).toEqual([false, false, false]);
    expect(compilePolicy(parsed).broken).toBeUndefined();
  });

  it.each([
    [{ host: "a.example", urlPrefix: "https://a.example/" }, "both host and urlPrefix"],
    [{ methods: ["GET"] }, "neither"],
    [{ host: "a.example/path" }, "a path in host"],
    [{ host: "user@a.example" }, "userinfo in host"],
    [{ host: "*.10.0.0.1" }, "a wildcard IP"],
    [{ host: "*.example.com", allowPrivate: true }, "allowPrivate on a wildcard"],
    [{ urlPrefix: "ftp://a.example/" }, "a non-http prefix"],
    [{ urlPrefix: "https://u:p@a.example/" }, "userinfo in a prefix"],
    [{ urlPrefix: "https://a.example/v1?x=1" }, "a query in a prefix"],
    [{ host: "a.example", methods: ["CONNECT"] }, "CONNECT"],
    [{ host: "a.example", credential: { secret: "lower", as: "bearer" } }, "a bad secret name"],
    [{ host: "a.example", credential: { secret: "T", as: "header" } }, "header credential without header"],
    [{ host: "a.example", credential: { secret: "T", as: "header", header: "Host" } }, "credential as Host"],
    [{ host: "a.example", credential: { secret: "T", as: "bearer", header: "X-Key" } }, "header with bearer"],
    [{ host: "a.example", extra: true }, "unknown fields"],
  ] as Array<[unknown, string]>)("rejects %j (%s)", (rule) => {
    expect(egressPolicySchema.safeParse({ allow: [rule] }).success).toBe(false);
  });
});

describe("decideEgress", () => {
  const api = { allow: [{ host: "api.example.com", methods: ["GET", "POST"] }] };

  it("denies by default", () => {
    const result = decide({}, "GET", "https://api.example.com/");
    expect(result.decision).toEqual({
      decision: "deny",
      capability: "network",
      target: "GET https://api.example.com/",
      reason: "no egress rule allows this method and URL",
    });
  });

  it("allows a named host on any port and scheme, with the listed methods only", () => {
    expect(kind(api, "GET", "https://api.example.com/v1")).toBe("allow");
    expect(kind(api, "POST", "http://API.example.com.:8080/v1")).toBe("allow");
    expect(kind(api, "DELETE", "https://api.example.com/v1")).toBe("deny");
    expect(kind(api, "GET", "https://evil.example.com/")).toBe("deny");
    expect(kind(api, "GET", "https://api.example.com.evil.net/")).toBe("deny");
    expect(kind(api, "GET", "https://xapi.example.com/")).toBe("deny");
  });

  it("pins the port when the rule names one", () => {
    const policy = { allow: [{ host: "api.example.com:8443" }] };
    expect(kind(policy, "GET", "https://api.example.com:8443/")).toBe("allow");
    expect(kind(policy, "GET", "https://api.example.com/")).toBe("deny");
    const eighty = { allow: [{ host: "api.example.com:80" }] };
    expect(kind(eighty, "GET", "http://api.example.com/")).toBe("allow");
    expect(kind(eighty, "GET", "http://api.example.com:8080/")).toBe("deny");
  });

  it("matches wildcards on subdomains, not the apex or look-alikes", () => {
    const policy = { allow: [{ host: "*.example.com" }] };
    expect(kind(policy, "GET", "https://a.b.example.com/")).toBe("allow");
    expect(kind(policy, "GET", "https://example.com/")).toBe("deny");
    expect(kind(policy, "GET", "https://badexample.com/")).toBe("deny");
  });

  it("matches IDNA hosts by their ASCII form", () => {
    expect(kind({ allow: [{ host: "bücher.example" }] }, "GET", "https://xn--bcher-kva.example/")).toBe("allow");
  });

  it("matches IP literals as parsed addresses, in every spelling", () => {
    const policy = { allow: [{ host: "127.0.0.1" }] };
    for (const url of ["http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/"]) {
      expect(kind(policy, "GET", url), url).toBe("allow");
    }
    expect(kind(policy, "GET", "http://[::ffff:127.0.0.1]/")).toBe("deny");
    const mapped = { allow: [{ host: "[::ffff:169.254.169.254]" }] };
    expect(kind(mapped, "GET", "http://[::ffff:a9fe:a9fe]/")).toBe("allow");
    expect(kind({ allow: [{ host: "api.example.com" }] }, "GET", "http://2130706433/")).toBe("deny");
  });

  it("matches URL prefixes as parsed URLs on a path-segment boundary", () => {
    const policy = { allow: [{ urlPrefix: "https://api.example.com/v1", methods: ["POST"] }] };
    expect(kind(policy, "POST", "https://api.example.com/v1")).toBe("allow");
    expect(kind(policy, "POST", "https://api.example.com/v1/items?x=1")).toBe("allow");
    expect(kind(policy, "POST", "https://API.example.com:443/v1/items")).toBe("allow");
    expect(kind(policy, "POST", "https://api.example.com/v10")).toBe("deny");
    expect(kind(policy, "POST", "https://api.example.com/v1/../admin")).toBe("deny");
    expect(kind(policy, "POST", "https://api.example.com/v1/%2e%2e%2fadmin")).toBe("deny");
    expect(kind(policy, "POST", "https://api.example.com/v1/..%2Fadmin")).toBe("deny");
    expect(kind(policy, "POST", "http://api.example.com/v1")).toBe("deny");
    expect(kind(policy, "POST", "https://api.example.com:8443/v1")).toBe("deny");
    expect(kind(policy, "POST", "https://api.example.com.evil.net/v1")).toBe("deny");
    expect(kind(policy, "GET", "https://api.example.com/v1")).toBe("deny");
    const slash = { allow: [{ urlPrefix: "https://api.example.com/v1/" }] };
    expect(kind(slash, "GET", "https://api.example.com/v1/x")).toBe("allow");
    expect(kind(slash, "GET", "https://api.example.com/v1")).toBe("deny");
  });

  it("lets a host rule with a credential match https only", () => {
    const policy = { allow: [{ host: "api.example.com", credential: { secret: "TOKEN", as: "bearer" } }] };
    expect(kind(policy, "GET", "https://api.example.com/")).toBe("allow");
    expect(kind(policy, "GET", "http://api.example.com/")).toBe("deny");
  });

  it("uses the first matching rule", () => {
    const policy = {
      allow: [{ host: "api.example.com" }, { host: "api.example.com", credential: { secret: "TOKEN", as: "bearer" } }],
    };
    expect(decide(policy, "GET", "https://api.example.com/").rule?.index).toBe(0);
  });

  it("prompts on effect, except in a dry run", () => {
    expect(decide(api, "GET", "https://api.example.com/", { approval: "on-effect" }).decision.decision).toBe("prompt");
    expect(
      decide(api, "GET", "https://api.example.com/", { approval: "on-effect", dryRun: true }).decision.decision,
    ).toBe("allow");
    expect(decide(api, "GET", "https://api.example.com/", { approval: "always" }).decision.decision).toBe("allow");
    expect(decide(api, "GET", "https://evil.example/", { approval: "on-effect" }).decision.decision).toBe("deny");
  });

  it("denies everything when the policy cannot be compiled (fail closed)", () => {
    const broken = compilePolicy({ allow: [{ host: "a b", methods: ["GET"], allowPrivate: false }] });
    expect(broken.broken).toBeDefined();
    const parsed = parseEgressUrl("https://a.example/");
    if (!parsed.ok) throw new Error("unreachable");
    const result = decideEgress(broken, parsed.target, "GET", { approval: "never", dryRun: false });
    expect(result.decision.decision).toBe("deny");
    expect(result.decision.reason).toContain("invalid");
  });
});

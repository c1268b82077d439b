import { describe, expect, it } from "vitest";
import { egressMockSchema } from "./mocks.js";
import { testSession } from "./test-harness.js";

const policy = {
  allow: [
    { host: "api.example.com", methods: ["GET", "POST"] },
    {
      urlPrefix: "https://hooks.example.com/v1/",
      methods: ["POST"],
      credential: { secret: "HOOK", as: "bearer" },
    },
    { host: "10.0.0.5" },
  ],
};

const mocks = [
  egressMockSchema.parse({
    method: "GET",
    url: "https://api.example.com/items?id=1",
    status: 200,
    headers: { "Content-Type": "application/json", "Set-Cookie": "a=b" },
    body: '{"id":1}',
  }),
  egressMockSchema.parse({ urlPrefix: "https://hooks.example.com/v1/", status: 202, body: "queued" }),
];

function dryRun(withMocks: boolean) {
  const secretsAsked: string[] = [];
  const prompts: unknown[] = [];
  const t = testSession({
    policy,
    dryRun: true,
    approval: "on-effect",
    ...(withMocks ? { mocks } : {}),
    names: { "api.example.com": ["127.0.0.1"] },
    secretValue: (name) => {
      secretsAsked.push(name);
      return "never-used-secret";
    },
    onPrompt: async (p) => {
      prompts.push(p);
      return "approved";
    },
  });
  return { ...t, secretsAsked, prompts };
}

describe("egress dry run", () => {
  it("answers from declared mocks; nothing is resolved, dialled, looked up or prompted", async () => {
    const { session, dialer, resolver, secretsAsked, prompts } = dryRun(true);
    const get = await session.request({ url: "https://api.example.com/items?id=1" });
    expect(get.ok).toBe(true);
    if (!get.ok) return;
    expect(get.response.status).toBe(200);
    expect(Buffer.from(get.response.body).toString()).toBe('{"id":1}');
    expect(get.response.headers).toEqual([["Content-Type", "application/json"]]);
    expect(get.effect).toMatchObject({
      decision: "allow",
      performed: false,
      dryRun: true,
      answeredBy: "mock",
      status: 200,
    });

    const hook = await session.request({ method: "POST", url: "https://hooks.example.com/v1/send", body: "{}" });
    expect(hook.ok && hook.response.status).toBe(202);
    expect(hook.effect.credentials).toEqual(["HOOK"]);

    expect(resolver.lookups).toEqual([]);
    expect(dialer.attempts).toEqual([]);
    expect(secretsAsked).toEqual([]);
    expect(prompts).toEqual([]);
    expect(session.effects().map((e) => [e.method, e.url, e.answeredBy])).toEqual([
      ["GET", "https://api.example.com/items?…", "mock"],
      ["POST", "https://hooks.example.com/v1/send", "mock"],
    ]);
  });

  it("ends an allowed request no mock answers with DRY_RUN, and records it in the manifest", async () => {
    const { session, dialer } = dryRun(false);
    const outcome = await session.request({ url: "https://api.example.com/items?id=1" });
    expect(!outcome.ok && outcome.error.code).toBe("DRY_RUN");
    expect(outcome.effect).toMatchObject({ answeredBy: "DRY_RUN", performed: false, dryRun: true, code: "DRY_RUN" });
    expect(outcome.effect.hops[0]?.decision).toBe("allow");
    expect(session.effects()).toHaveLength(1);
    expect(dialer.attempts).toEqual([]);
  });

  it("still denies what the policy denies, and literal private addresses, even with a mock for them", async () => {
    const { session } = testSession({
      policy,
      dryRun: true,
      mocks: [
        egressMockSchema.parse({ urlPrefix: "http://evil.example/" }),
        egressMockSchema.parse({ url: "http://10.0.0.5/" }),
      ],
    });
    const denied = await session.request({ url: "http://evil.example/" });
    expect(!denied.ok && denied.error.code).toBe("EGRESS_DENIED");
    const privateLiteral = await session.request({ url: "http://10.0.0.5/" });
    expect(!privateLiteral.ok && privateLiteral.error.code).toBe("EGRESS_ADDRESS_DENIED");
    expect(session.effects().map((e) => e.answeredBy)).toEqual(["none", "none"]);
  });
});

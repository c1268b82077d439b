/**
 * Guest HTTP egress end to end, for all four languages: a tool's guest calls its language's binding,
 * the worker blocks, the host applies the tool policy (allowlist, SSRF checks, credentials, per-effect
 * approval) and answers. Names resolve from a table and the dialer refuses anything outside loopback,
 * so no test can open a connection off this machine; the "upstream" is a local server.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeResolver, guardedDialer, type LocalServer, localServer } from "../../src/egress/test-harness.js";
import { silentLogger } from "../../src/logger.js";
import { SandboxRegistry } from "../../src/sandbox/registry.js";
import type { Language } from "../../src/sandbox/types.js";
import { WasmSandbox } from "../../src/sandbox/wasm/wasm-sandbox.js";
import { type Body, type ControlPlane, createDataDir, eventTypes, startControlPlane } from "./control-plane.js";

const TOKEN = `tok-${randomBytes(12).toString("hex")}`;
const HOST = "api.example.test";
const LANGUAGES: readonly Language[] = ["javascript", "python", "ruby", "bash"];

/**
 * One guest per language: fetch `input.url` (GET), print `STATUS <status>` and the body, or
 * `CODE <code>` when the call was refused. Bash reads curl's stderr for the code.
 */
const FETCH: Record<Language, string> = {
  javascript: `
const { url } = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => {
  try {
    const r = await fetch(url);
    console.log("STATUS " + r.status);
    console.log(await r.text());
  } catch (e) {
    console.log("CODE " + e.code);
  }
})();`,
  python: `
import json, sys
from sandbox import http
try:
    r = http.get(json.load(sys.stdin)["url"])
    print("STATUS", r.status)
    print(r.text())
except http.EgressError as e:
    print("CODE", e.code)
`,
  ruby: `
require "json"
begin
  r = Sandbox::HTTP.get(JSON.parse($stdin.read)["url"])
  puts "STATUS #{r.status}"
  puts r.body
rescue Sandbox::HTTP::Error => e
  puts "CODE #{e.code}"
end
`,
  bash: `
url=$(jq -r .url)
if body=$(curl -sSL -w '\\n%{http_code}' "$url" 2>/tmp/err); then
  echo "STATUS \${body##*$'\\n'}"
  echo "\${body%$'\\n'*}"
else
  code=$(grep -o '[A-Z_]*_[A-Z_]*' /tmp/err | head -n 1)
  echo "CODE $code"
fi
`,
};

let upstream: LocalServer;
let cp: ControlPlane;
const dialer = guardedDialer();
const resolver = fakeResolver({ [HOST]: ["127.0.0.1"], "internal.example.test": ["10.1.2.3"] });

beforeAll(async () => {
  upstream = await localServer((req, res) => {
    if (req.url?.startsWith("/redirect")) {
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
      return;
    }
    if (req.url?.startsWith("/secure")) {
      // Echoes the credential back: the guest must still never see it.
      res.writeHead(200, { "content-type": "text/plain" }).end(`auth=${req.headers.authorization ?? "none"}`);
      return;
    }
    res
      .writeHead(200, { "content-type": "text/plain", "x-request-id-seen": String(req.headers["x-request-id"]) })
      .end("hello from upstream");
  });
  const dataDir = createDataDir();
  const secretsFile = join(dataDir, "secrets.json");
  writeFileSync(secretsFile, JSON.stringify({ UPSTREAM_TOKEN: TOKEN }), { mode: 0o600 });
  cp = await startControlPlane(
    { SANDBOX_SECRETS_FILE: secretsFile },
    {
      createSandboxes: async () =>
        new SandboxRegistry([
          await WasmSandbox.create({ logger: silentLogger(), workers: 2, languages: [...LANGUAGES] }),
        ]),
      egress: { resolver: resolver.resolve, dialer: dialer.dial },
    },
    dataDir,
  );
  for (const language of LANGUAGES) {
    for (const [suffix, approval] of [
      ["", "never"],
      ["-gated", "on-effect"],
    ] as const) {
      const put = await cp.call("admin", "PUT", `/v1/tools/fetch-${language}${suffix}`, {
        language,
        code: FETCH[language],
        description: "fetches a URL",
        policy: {
          sideEffect: "read-only",
          approval,
          limits: { timeoutMs: 3_000 },
          egress: {
            // The first rule that matches decides, so the narrower credential rule comes first.
            allow: [
              {
                urlPrefix: `http://${HOST}:${upstream.port}/secure/`,
                allowPrivate: true,
                credential: { secret: "UPSTREAM_TOKEN", as: "bearer" },
              },
              { host: HOST, methods: ["GET"], allowPrivate: true },
            ],
          },
        },
      });
      expect(put.status, JSON.stringify(put.body)).toBe(201);
    }
  }
}, 120_000);

afterAll(async () => {
  await cp?.close();
  await upstream?.close();
});

async function invoke(tool: string, url: string, extra: Record<string, unknown> = {}): Promise<Body> {
  const { status, body } = await cp.call("agent", "POST", `/v1/tools/${tool}/invoke`, {
    input: { url },
    ...extra,
  });
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
}

const url = (path: string, host = HOST) => `http://${host}:${upstream.port}${path}`;

describe.each(LANGUAGES)("egress from %s", (language) => {
  const tool = `fetch-${language}`;

  it("an allowed GET returns the upstream response, with the request id on the way out", async () => {
    const before = upstream.seen.length;
    const body = await invoke(tool, url("/hello"));
    expect(body.stdout).toContain("STATUS 200");
    expect(body.stdout).toContain("hello from upstream");
    const seen = upstream.seen.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers["x-request-id"]).toMatch(/.+/);
    expect(seen[0]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const record = (await cp.call("agent", "GET", `/v1/executions/${body.id}`)).body;
    const effect = record.events?.find((e) => e.type === "effect" && e.effect === "egress");
    expect(effect).toMatchObject({ method: "GET", decision: "allow", status: 200, performed: true });
  });

  it("a host outside the allowlist and a private address behind an allowed name are refused", async () => {
    const denied = await invoke(tool, url("/x", "other.example.test"));
    expect(denied.stdout).toContain("CODE EGRESS_DENIED");
    const metadata = await invoke(tool, "http://169.254.169.254/latest/meta-data/");
    expect(metadata.stdout).toContain("CODE EGRESS_DENIED");
    const redirect = await invoke(tool, url("/redirect"));
    expect(redirect.stdout).toMatch(/CODE EGRESS_(DENIED|ADDRESS_DENIED)/);
    expect(dialer.refused).toEqual([]);
  });

  it("attaches the credential on the host, and the guest never sees its value", async () => {
    const body = await invoke(tool, url("/secure/data"));
    expect(body.stdout).toContain("STATUS 200");
    expect(body.stdout).not.toContain(TOKEN);
    expect(upstream.seen.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const record = (await cp.call("agent", "GET", `/v1/executions/${body.id}`)).body;
    expect(JSON.stringify(record)).not.toContain(TOKEN);
  });

  it("suspends on an effect that needs approval, then resumes with the response once approved", async () => {
    const pending = cp.call("agent", "POST", `/v1/tools/${tool}-gated/invoke`, { input: { url: url("/hello") } });
    const approval = await pendingEffect();
    expect(approval).toMatchObject({ kind: "effect", status: "pending" });
    const decided = await cp.call("approver", "POST", `/v1/approvals/${approval.id}/approve`, { reason: "ok" });
    expect(decided.status).toBe(200);
    const { status, body } = await pending;
    expect(status).toBe(200);
    expect(body.stdout).toContain("hello from upstream");
    const record = (await cp.call("agent", "GET", `/v1/executions/${body.id}`)).body;
    expect(eventTypes(record)).toEqual(
      expect.arrayContaining(["approval_requested", "approval_approved", "effect", "completed"]),
    );
  });

  it("suspends, and a denial reaches the guest as APPROVAL_DENIED", async () => {
    const before = upstream.seen.length;
    const pending = cp.call("agent", "POST", `/v1/tools/${tool}-gated/invoke`, { input: { url: url("/hello") } });
    const approval = await pendingEffect();
    expect((await cp.call("approver", "POST", `/v1/approvals/${approval.id}/deny`, { reason: "no" })).status).toBe(200);
    const { body } = await pending;
    expect(body.stdout).toContain("CODE APPROVAL_DENIED");
    expect(body.exitCode).toBe(0);
    expect(upstream.seen.length).toBe(before);
  });
});

describe("effect approvals and the deadline", () => {
  it("the time spent waiting for a human does not count against the guest's time limit", async () => {
    const pending = cp.call("agent", "POST", "/v1/tools/fetch-javascript-gated/invoke", {
      input: { url: url("/hello") },
    });
    const approval = await pendingEffect();
    await new Promise((resolve) => setTimeout(resolve, 4_000)); // longer than the tool's 3 s limit
    await cp.call("approver", "POST", `/v1/approvals/${approval.id}/approve`, { reason: "late but fine" });
    const { body } = await pending;
    expect(body.error).toBeUndefined();
    expect(body.stdout).toContain("hello from upstream");
  }, 20_000);

  it("a dry run answers from the tool's mocks and sends nothing", async () => {
    const put = await cp.call("admin", "PUT", "/v1/tools/fetch-mocked", {
      language: "javascript",
      code: FETCH.javascript,
      description: "fetches with a mock",
      policy: {
        sideEffect: "read-only",
        approval: "on-effect",
        egress: { allow: [{ host: HOST, allowPrivate: true }] },
      },
      mocks: [{ method: "GET", url: url("/mocked"), response: { status: 203, body: "from the mock" } }],
    });
    expect(put.status).toBe(201);
    const before = upstream.seen.length;
    const mocked = await invoke("fetch-mocked", url("/mocked"), { dryRun: true });
    expect(mocked.stdout).toContain("STATUS 203");
    expect(mocked.stdout).toContain("from the mock");
    const unmocked = await invoke("fetch-mocked", url("/other"), { dryRun: true });
    expect(unmocked.stdout).toContain("CODE DRY_RUN");
    expect(upstream.seen.length).toBe(before);
    expect(unmocked.manifest?.egress).toEqual([
      expect.objectContaining({ method: "GET", decision: "deny", answeredBy: "DRY_RUN", code: "DRY_RUN" }),
    ]);
  });
});

interface EffectApprovalBody {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
}

/** Waits until an effect approval is pending and returns it. */
async function pendingEffect(): Promise<EffectApprovalBody> {
  for (let i = 0; i < 200; i++) {
    const { body } = await cp.call("approver", "GET", "/v1/approvals?status=pending&kind=effect");
    const found = (body.approvals as unknown as EffectApprovalBody[] | undefined)?.[0];
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("no effect approval became pending");
}

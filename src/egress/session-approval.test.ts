import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EgressPrompt, PromptAnswer } from "./approval.js";
import { type LocalServer, localServer, testSession } from "./test-harness.js";

let server: LocalServer;

beforeAll(async () => {
  server = await localServer((req, res) => {
    if (req.url === "/to-final") {
      res.writeHead(302, { Location: "/final" });
      res.end();
      return;
    }
    res.end("done");
  });
});

afterAll(async () => {
  await server.close();
});

const policy = () => ({
  allow: [
    {
      host: `127.0.0.1:${server.port}`,
      allowPrivate: true,
      methods: ["GET", "POST"],
    },
  ],
});

function approving(answer: PromptAnswer | (() => Promise<PromptAnswer>), delayMs = 0) {
  const prompts: EgressPrompt[] = [];
  const onPrompt = async (prompt: EgressPrompt) => {
    prompts.push(prompt);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    return typeof answer === "function" ? answer() : answer;
  };
  return { prompts, onPrompt };
}

describe("egress per-effect approval", () => {
  it("asks before the request leaves, then performs it when approved", async () => {
    const { prompts, onPrompt } = approving("approved");
    const { session, dialer } = testSession({ policy: policy(), approval: "on-effect", onPrompt });
    const outcome = await session.request({ method: "POST", url: `${server.origin}/act?x=1`, body: "b" });
    expect(outcome.ok).toBe(true);
    expect(prompts).toEqual([
      {
        decision: {
          decision: "prompt",
          capability: "network",
          target: `POST ${server.origin}/act?…`,
          reason: expect.stringContaining("asks a human on effect"),
        },
        method: "POST",
        url: `${server.origin}/act?…`,
        hop: 0,
      },
    ]);
    expect(dialer.attempts).toHaveLength(1);
    expect(outcome.effect.hops[0]).toMatchObject({ decision: "prompt", approval: "approved" });
  });

  it.each([
    ["denied", "APPROVAL_DENIED"],
    ["expired", "APPROVAL_EXPIRED"],
  ] as const)("refuses when the human's answer is %s; nothing is dialled", async (answer, code) => {
    const { onPrompt } = approving(answer);
    const { session, dialer } = testSession({ policy: policy(), approval: "on-effect", onPrompt });
    const outcome = await session.request({ url: `${server.origin}/act` });
    expect(!outcome.ok && outcome.error.code).toBe(code);
    expect(outcome.effect.hops[0]?.approval).toBe(answer);
    expect(dialer.attempts).toEqual([]);
  });

  it("fails closed without an approver, with a failing approver, or with an unknown answer", async () => {
    const cases = [
      testSession({ policy: policy(), approval: "on-effect" }),
      testSession({
        policy: policy(),
        approval: "on-effect",
        onPrompt: () => Promise.reject(new Error("approvals store down")),
      }),
      testSession({
        policy: policy(),
        approval: "on-effect",
        onPrompt: () => Promise.resolve("yes please" as PromptAnswer),
      }),
    ];
    for (const { session, dialer } of cases) {
      const outcome = await session.request({ url: `${server.origin}/act` });
      expect(!outcome.ok && outcome.error.code).toBe("EGRESS_APPROVAL_UNAVAILABLE");
      expect(dialer.attempts).toEqual([]);
    }
  });

  it("asks again for each redirect hop", async () => {
    const { prompts, onPrompt } = approving("approved");
    const { session } = testSession({ policy: policy(), approval: "on-effect", onPrompt });
    const outcome = await session.request({ url: `${server.origin}/to-final` });
    expect(outcome.ok).toBe(true);
    expect(prompts.map((p) => [p.hop, p.url])).toEqual([
      [0, `${server.origin}/to-final`],
      [1, `${server.origin}/final`],
    ]);
  });

  it("does not count the wait for a human against the call's time budget", async () => {
    const { onPrompt } = approving("approved", 400);
    const { session } = testSession({ policy: policy(), approval: "on-effect", onPrompt, limits: { timeoutMs: 250 } });
    const outcome = await session.request({ url: `${server.origin}/act` });
    expect(outcome.ok).toBe(true);
    expect(outcome.effect.waitedMs).toBeGreaterThanOrEqual(350);
    expect(outcome.effect.durationMs).toBeGreaterThanOrEqual(outcome.effect.waitedMs);
  });

  it("ends the wait when the execution is aborted", async () => {
    const controller = new AbortController();
    const { session, dialer } = testSession({
      policy: policy(),
      approval: "on-effect",
      signal: controller.signal,
      onPrompt: () => new Promise<PromptAnswer>(() => {}),
    });
    setTimeout(() => controller.abort(), 50);
    const outcome = await session.request({ url: `${server.origin}/act` });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_ABORTED");
    expect(dialer.attempts).toEqual([]);
  });

  it("does not prompt for a request the policy denies", async () => {
    const { prompts, onPrompt } = approving("approved");
    const { session } = testSession({ policy: policy(), approval: "on-effect", onPrompt });
    const outcome = await session.request({ url: "http://elsewhere.example/" });
    expect(!outcome.ok && outcome.error.code).toBe("EGRESS_DENIED");
    expect(prompts).toEqual([]);
  });
});

/**
 * A guest waiting for a human parks its worker: the pool starts a stand-in so other executions keep
 * running, caps how many may wait at once, and drops the stand-in once the wait is over. A host call
 * still in flight when its run ends is aborted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../logger.js";
import type { EffectControl, EffectHandler, GuestHttpReply } from "../host-call.js";
import { DEFAULT_LIMITS } from "../limits.js";
import type { ExecutionRequest } from "../types.js";
import { WasmSandbox } from "./wasm-sandbox.js";

const FETCH = `(async () => {
  try { const r = await fetch("https://api.example.test/x"); console.log("status " + r.status); }
  catch (e) { console.log("code " + e.code); }
})();`;

const request = (code: string): ExecutionRequest => ({
  language: "javascript",
  code,
  stdin: "",
  args: [],
  env: {},
  files: [],
});

/** Parks on every call (as an approval would) until `release` is called; then answers 200. */
function waitingHandler() {
  const releases: Array<() => void> = [];
  const handler: EffectHandler = {
    async http(_request, control: EffectControl): Promise<GuestHttpReply> {
      let resume: () => void;
      try {
        resume = control.pauseDeadline();
      } catch {
        return { ok: false, code: "EGRESS_APPROVAL_UNAVAILABLE", message: "refused" };
      }
      await new Promise<void>((resolve) => releases.push(resolve));
      resume();
      return {
        ok: true,
        status: 200,
        statusText: "OK",
        headers: [],
        body: new Uint8Array(),
        url: "",
        redirected: false,
      };
    },
  };
  return { handler, releases };
}

let sandbox: WasmSandbox;
beforeAll(async () => {
  sandbox = await WasmSandbox.create({
    logger: silentLogger(),
    workers: 1,
    maxParkedWorkers: 1,
    languages: ["javascript"],
  });
}, 60_000);
afterAll(async () => {
  await sandbox?.[Symbol.asyncDispose]();
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(check()).toBe(true);
}

describe("parked workers", () => {
  it("keep the pool running other executions, refuse a wait beyond the cap, and the wait does not time out", async () => {
    const limits = { ...DEFAULT_LIMITS, timeoutMs: 1_000 };
    const first = waitingHandler();
    const waiting = sandbox.execute(request(FETCH), { limits, effects: first.handler });
    await until(() => first.releases.length === 1);

    // The only worker is parked: a plain execution still runs, on the stand-in.
    const plain = await sandbox.execute(request("console.log(6 * 7)"), { limits });
    expect(plain.stdout).toBe("42\n");

    // A second wait would exceed the cap of one: refused, the guest goes on.
    const second = waitingHandler();
    const refused = await sandbox.execute(request(FETCH), { limits, effects: second.handler });
    expect(refused.stdout).toBe("code EGRESS_APPROVAL_UNAVAILABLE\n");

    // Waiting longer than the time limit is fine: the deadline is paused.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    first.releases[0]?.();
    const done = await waiting;
    expect(done.error).toBeUndefined();
    expect(done.stdout).toBe("status 200\n");

    // With nobody waiting, a new wait is allowed again.
    const third = waitingHandler();
    const again = sandbox.execute(request(FETCH), { limits, effects: third.handler });
    await until(() => third.releases.length === 1);
    third.releases[0]?.();
    expect((await again).stdout).toBe("status 200\n");
  }, 60_000);
});

describe("host calls", () => {
  it("are aborted while still in flight when their run ends", async () => {
    let signal: AbortSignal | undefined;
    const handler: EffectHandler = {
      http: (_request, control) =>
        new Promise<GuestHttpReply>((resolve) => {
          signal = control.signal;
          control.signal.addEventListener(
            "abort",
            () => resolve({ ok: false, code: "EGRESS_ABORTED", message: "the execution ended" }),
            { once: true },
          );
        }),
    };
    const result = await sandbox.execute(request(FETCH), {
      limits: { ...DEFAULT_LIMITS, timeoutMs: 500 },
      effects: handler,
    });
    expect(result.error?.code).toBe("TIMEOUT");
    expect(signal?.aborted).toBe(true);
  }, 60_000);
});

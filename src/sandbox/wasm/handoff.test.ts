import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { awaitRelease, HANDOFF_AFTER_IDLE_MS, HandoffPolicy, releaseWorker } from "./handoff.js";
import { CONTROL_HANDOFF, CONTROL_WORDS } from "./protocol.js";

function policyAt(start = 1_000) {
  let now = start;
  const policy = new HandoffPolicy(() => now);
  return {
    policy,
    advance(ms: number) {
      now += ms;
    },
  };
}

const controlWords = () => new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));

describe("HandoffPolicy", () => {
  it("hands off the first run, and a run that starts after the pool was idle long enough", () => {
    const { policy, advance } = policyAt();
    expect(policy.started()).toBe(true);
    advance(1);
    policy.ended();
    advance(HANDOFF_AFTER_IDLE_MS);
    expect(policy.started()).toBe(true);
  });

  it("does not hand off runs that come back-to-back", () => {
    const { policy, advance } = policyAt();
    policy.started();
    advance(2);
    policy.ended();
    advance(HANDOFF_AFTER_IDLE_MS - 0.5);
    expect(policy.started()).toBe(false);
  });

  it("does not hand off a run that starts while another is in flight, however long that one runs", () => {
    const { policy, advance } = policyAt();
    policy.started();
    advance(50);
    expect(policy.started()).toBe(false);
    advance(50);
    policy.ended();
    policy.ended();
    advance(HANDOFF_AFTER_IDLE_MS);
    expect(policy.started()).toBe(true);
  });

  it("counts idleness from the last run's end, not its start", () => {
    const { policy, advance } = policyAt();
    policy.started();
    advance(100);
    policy.ended();
    advance(1);
    expect(policy.started()).toBe(false);
  });
});

describe("releaseWorker / awaitRelease", () => {
  it("a worker blocked in the wait is woken by the release", async () => {
    const control = controlWords();
    const worker = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
       const control = new Int32Array(workerData.buffer);
       parentPort.postMessage("waiting");
       parentPort.postMessage(Atomics.wait(control, workerData.index, 0, 30000));`,
      { eval: true, workerData: { buffer: control.buffer, index: CONTROL_HANDOFF } },
    );
    try {
      const replies: string[] = [];
      const done = new Promise<void>((resolve, reject) => {
        worker.once("error", reject);
        worker.on("message", (message: string) => {
          replies.push(message);
          if (message === "waiting") releaseWorker(control);
          else resolve();
        });
      });
      await done;
      // "ok": woken; "not-equal": released before it began to wait. Never the 30 s timeout.
      expect(["ok", "not-equal"]).toContain(replies[1]);
    } finally {
      await worker.terminate();
    }
  });

  it("returns at once once released, and after its cap without a release", () => {
    const released = controlWords();
    releaseWorker(released);
    releaseWorker(released);
    expect(awaitRelease(released)).toBe(true);
    expect(awaitRelease(controlWords())).toBe(false);
  });
});

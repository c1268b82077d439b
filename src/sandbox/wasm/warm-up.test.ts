import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WASM_RUNTIMES } from "../../../runtimes/wasm-runtimes.js";
import { runInProcess } from "../../../test/support/wasm-runner.js";
import { DEFAULT_LIMITS } from "../limits.js";
import type { ExecutionRequest, Language } from "../types.js";
import type { PoolRun } from "./pool-slot.js";
import { type ActivityClock, ExecutionActivity, WARM_UP_STDOUT, warmUpRequest, warmUpVerdict } from "./warm-up.js";
import { WasmSandbox } from "./wasm-sandbox.js";

const output = (text: string) => ({ text, bytes: new TextEncoder().encode(text), truncated: false });
const completed = (
  stdout: string,
  outcome: Partial<Extract<PoolRun, { kind: "completed" }>["outcome"]> = {},
): PoolRun => ({
  kind: "completed",
  outcome: { exitCode: 0, files: [], ...outcome },
  stdout: output(stdout),
  stderr: output(""),
});

describe("warm-up verdict", () => {
  it("is ok only for exit 0, no error and exactly the expected line", () => {
    expect(warmUpVerdict("ruby", completed(WARM_UP_STDOUT))).toEqual({ kind: "ok" });
    expect(warmUpVerdict("ruby", completed(`${WARM_UP_STDOUT}more\n`)).kind).toBe("broken");
    expect(warmUpVerdict("python", completed(WARM_UP_STDOUT, { exitCode: 1 }))).toMatchObject({
      kind: "broken",
      reason: expect.stringMatching(/python warm-up .*exit 1/),
    });
    const violation = completed("", { exitCode: null, error: { code: "SANDBOX_VIOLATION", message: "no bridge" } });
    expect(warmUpVerdict("javascript", violation)).toMatchObject({
      kind: "broken",
      reason: expect.stringMatching(/no bridge/),
    });
  });

  it("is inconclusive when a host limit or a kill stopped it", () => {
    const timeout = completed("", { exitCode: null, error: { code: "TIMEOUT", message: "deadline" } });
    expect(warmUpVerdict("bash", timeout).kind).toBe("inconclusive");
    const killed: PoolRun = {
      kind: "killed",
      code: "TIMEOUT",
      message: "killed",
      stdout: output(""),
      stderr: output(""),
    };
    expect(warmUpVerdict("bash", killed)).toEqual({ kind: "inconclusive", reason: "TIMEOUT: killed" });
  });

  it("asks for no files, no env, no args and no stdin", () => {
    expect(warmUpRequest("ruby")).toMatchObject({ language: "ruby", stdin: "", args: [], env: {}, files: [] });
  });
});

/** A clock whose sleeps jump its time forward, calling `at` for every instant a sleep passes. */
function jumpingClock(at: (now: number) => void = () => undefined): ActivityClock & { readonly sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      const end = now + ms;
      while (now < end) {
        now++;
        at(now);
      }
    },
  };
}

describe("ExecutionActivity", () => {
  const never = new AbortController().signal;

  it("lets a warm-up start once nothing ran for the quiet time", async () => {
    const clock = jumpingClock();
    const activity = new ExecutionActivity(clock);
    await activity.quiet(never, 100, 10_000);
    expect(clock.now()).toBe(100);
    await activity.quiet(never, 100, 10_000);
    expect(clock.now()).toBe(100);
  });

  it("waits while an execution runs, then the quiet time after its end", async () => {
    let activity: ExecutionActivity | undefined;
    const clock = jumpingClock((now) => {
      if (now === 350) activity?.end();
    });
    activity = new ExecutionActivity(clock);
    activity.begin();
    await activity.quiet(never, 100, 10_000);
    expect(clock.now()).toBe(450);
  });

  it("counts a touch as activity", async () => {
    const clock = jumpingClock();
    const activity = new ExecutionActivity(clock);
    await activity.quiet(never, 100, 10_000);
    activity.touch();
    await activity.quiet(never, 100, 10_000);
    expect(clock.now()).toBe(200);
  });

  it("gives up waiting after the longest deferral", async () => {
    const clock = jumpingClock();
    const activity = new ExecutionActivity(clock);
    activity.begin();
    await activity.quiet(never, 100, 1_050);
    expect(clock.now()).toBe(1_050);
    expect(clock.sleeps.at(-1)).toBe(50);
  });

  it("stops waiting once its signal aborted", async () => {
    const stop = new AbortController();
    const clock = jumpingClock((now) => {
      if (now === 250) stop.abort();
    });
    const activity = new ExecutionActivity(clock);
    activity.begin();
    await activity.quiet(stop.signal, 100, 10_000);
    expect(clock.now()).toBe(300);
  });
});

describe("warm-up programs", () => {
  it.each(["javascript", "python", "ruby", "bash"] as Language[])(
    "%s's prints the expected line on the real runtime",
    async (language) => {
      const load = WASM_RUNTIMES[language];
      if (!load) throw new Error(`no ${language} runtime`);
      const runtime = await load();
      const runner = await runtime.createRunner(await runtime.load());
      const result = await runInProcess(runner, warmUpRequest(language));
      expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({
        exitCode: 0,
        stdout: WARM_UP_STDOUT,
        stderr: "",
      });
    },
    60_000,
  );
});

/** A request whose execution takes 400 ms and prints "done". */
const BUSY_REQUEST: ExecutionRequest = {
  language: "javascript",
  code: "const end = Date.now() + 400;\nwhile (Date.now() < end) {}\nconsole.log('done');\n",
  stdin: "",
  args: [],
  env: {},
  files: [],
};

describe("WasmSandbox warm-up", () => {
  let sandbox: WasmSandbox | undefined;
  afterEach(async () => {
    await sandbox?.[Symbol.asyncDispose]();
    sandbox = undefined;
  });

  it("runs one warm-up per loaded language once every load settled, and logs it", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    sandbox = await WasmSandbox.create({ logger, workers: 1, languages: ["javascript"] });
    await sandbox.warmedUp();
    const warmed = lines.filter((l) => l.msg === "wasm runtime warmed up");
    expect(warmed).toEqual([expect.objectContaining({ language: "javascript", ms: expect.any(Number) })]);
    expect(sandbox.languageStates()).toMatchObject([{ language: "javascript", state: "available" }]);
  }, 60_000);

  it("gives way to a request sent as soon as the language is announced: its warm-up runs after it", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    // Two workers: without the wait, the warm-up would run on the idle one beside the request.
    sandbox = await WasmSandbox.create({ logger, workers: 2, languages: ["javascript"] });
    const result = await sandbox.execute(BUSY_REQUEST, { limits: DEFAULT_LIMITS });
    lines.push({ msg: "request answered" });
    expect(result.stdout).toBe("done\n");
    await sandbox.warmedUp();
    const order = lines
      .map((l) => l.msg)
      .filter((msg) => msg === "request answered" || msg === "wasm runtime warmed up");
    expect(order).toEqual(["request answered", "wasm runtime warmed up"]);
  }, 60_000);

  it("quietAfterLoads (when the process sandbox probes) also waits for a request sent right after the loads", async () => {
    sandbox = await WasmSandbox.create({ logger: pino({ level: "silent" }), workers: 1, languages: ["javascript"] });
    const order: string[] = [];
    const quiet = sandbox.quietAfterLoads().then(() => order.push("quiet"));
    const result = await sandbox.execute(BUSY_REQUEST, { limits: DEFAULT_LIMITS });
    order.push("request answered");
    expect(result.stdout).toBe("done\n");
    await quiet;
    expect(order).toEqual(["request answered", "quiet"]);
  }, 60_000);
});

import { describe, expect, it } from "vitest";
import { WASM_RUNTIMES } from "../../../runtimes/wasm-runtimes.js";
import type { ExecutionRequest, Language } from "../types.js";
import type { RunContext, Runner, RunOutcome } from "./runtime.js";
import { WARM_UP_CODE, WARM_UP_STDOUT, warmUp } from "./warm-up.js";

/** A runner that records what it was given and answers with `print` and `outcome`. */
function fakeRunner(print: string, outcome: RunOutcome = { exitCode: 0, files: [] }) {
  const seen: { request?: ExecutionRequest; context?: RunContext } = {};
  const runner: Runner = {
    async run(request, context) {
      seen.request = request;
      seen.context = context;
      context.stdout.write(print);
      return outcome;
    },
  };
  return { runner, seen };
}

describe("warm-up execution", () => {
  it("runs the language's program with no files, no env, no network and the default limits", async () => {
    const { runner, seen } = fakeRunner(WARM_UP_STDOUT);
    await warmUp("ruby", runner);
    expect(seen.request).toEqual({
      language: "ruby",
      code: WARM_UP_CODE.ruby,
      stdin: "",
      args: [],
      env: {},
      files: [],
    });
    const reply = seen.context?.http({ method: "GET", url: "https://example.com/", headers: [] } as never);
    expect(reply).toMatchObject({ ok: false, code: "EGRESS_DENIED" });
    expect(seen.context?.cancelled()).toBe(false);
  });

  it("fails when the program printed something else, exited non-zero or hit a limit", async () => {
    await expect(warmUp("python", fakeRunner("nope\n").runner)).rejects.toThrow(/python warm-up .*failed.*nope/);
    await expect(warmUp("bash", fakeRunner(WARM_UP_STDOUT, { exitCode: 1, files: [] }).runner)).rejects.toThrow(
      /bash warm-up .*exit 1/,
    );
    const limited = fakeRunner("", { exitCode: null, files: [], error: { code: "TIMEOUT", message: "too slow" } });
    await expect(warmUp("javascript", limited.runner)).rejects.toThrow(/too slow/);
  });

  it.each(["javascript", "python", "ruby", "bash"] as Language[])(
    "%s's program prints the expected line on the real runtime",
    async (language) => {
      const load = WASM_RUNTIMES[language];
      if (!load) throw new Error(`no ${language} runtime`);
      const runtime = await load();
      const runner = await runtime.createRunner(await runtime.load());
      await expect(warmUp(language, runner)).resolves.toBeUndefined();
    },
    60_000,
  );
});

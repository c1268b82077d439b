/**
 * One execution nobody sees, run by a worker right after it built a language's runner and before it
 * reports the runner ready.
 *
 * Why: V8 compiles a wasm module's functions lazily, on their first call (--wasm-lazy-compilation is
 * on by default in Node 20). The snapshots are booted in child processes, so in the service no
 * interpreter function has run when the first request arrives: that request paid for compiling
 * every function an execution touches (in-process, the first Ruby run took ~124 ms against ~4 ms
 * for the next, Python ~74 against ~4.5, JavaScript ~12 against ~2; over HTTP in a slow phase, a
 * server's first Ruby execution took ~450 ms). The compiled code belongs to the module, which every
 * worker of the process shares, so the workers after the first find it compiled.
 *
 * The warm-up is an ordinary execution on a never-used instance, like any other: its instance is
 * discarded (or its memory recycled, every byte rewritten) afterwards, its output goes nowhere, it
 * has no network and no files, and nothing of it is recorded. It must succeed: a runtime that cannot
 * print a line is reported unavailable (fail closed) instead of failing its first request.
 */

import { NO_NETWORK_REPLY } from "../host-call.js";
import { DEFAULT_LIMITS } from "../limits.js";
import type { ExecutionRequest, Language } from "../types.js";
import type { OutputSink, RunContext, Runner } from "./runtime.js";

/**
 * Small programs that go through what most executions use (output, strings, a collection, JSON;
 * a pipeline and a command substitution for bash), each printing WARM_UP_STDOUT.
 */
export const WARM_UP_CODE: Readonly<Record<Language, string>> = {
  javascript: "const xs = [1, 2, 3].map((x) => x * 2);\nconsole.log(JSON.stringify({ xs }), String(xs.length));\n",
  python:
    'import json\nxs = [x * 2 for x in (1, 2, 3)]\nprint(json.dumps({"xs": xs}, separators=(",", ":")), f"{len(xs)}")\n',
  ruby: 'require "json"\nxs = [1, 2, 3].map { |x| x * 2 }\nputs "#{JSON.generate({ "xs" => xs })} #{xs.size}"\n',
  bash: 'xs=""\nsep=""\nfor x in 1 2 3; do xs="$xs$sep$((x * 2))"; sep=","; done\nn=$(( $(echo 1 2 3 | wc -w) ))\necho "{\\"xs\\":[$xs]} $n"\n',
};

export const WARM_UP_STDOUT = '{"xs":[2,4,6]} 3\n';

const WARM_UP_TIMEOUT_MS = 30_000;

class CollectingSink implements OutputSink {
  private readonly chunks: string[] = [];
  private bytes = 0;

  write(chunk: Uint8Array | string): void {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    this.bytes += Buffer.byteLength(text);
    if (this.bytes <= 4096) this.chunks.push(text);
  }

  get length(): number {
    return this.bytes;
  }

  get text(): string {
    return this.chunks.join("");
  }
}

/** Run the language's warm-up once; throws when it did not print what it should. */
export async function warmUp(language: Language, runner: Runner): Promise<void> {
  const request: ExecutionRequest = { language, code: WARM_UP_CODE[language], stdin: "", args: [], env: {}, files: [] };
  const stdout = new CollectingSink();
  const stderr = new CollectingSink();
  const deadline = Date.now() + WARM_UP_TIMEOUT_MS;
  const context: RunContext = {
    limits: DEFAULT_LIMITS,
    deadline,
    stdout,
    stderr,
    cancelled: () => Date.now() > deadline,
    http: () => NO_NETWORK_REPLY,
  };
  const outcome = await runner.run(request, context);
  if (outcome.exitCode !== 0 || outcome.error !== undefined || stdout.text !== WARM_UP_STDOUT) {
    const detail = outcome.error?.message ?? `exit ${outcome.exitCode}`;
    throw new Error(
      `the ${language} warm-up execution failed (${detail}): stdout ${JSON.stringify(stdout.text.slice(0, 200))}, stderr ${JSON.stringify(stderr.text.slice(0, 200))}`,
    );
  }
}

/**
 * Worker thread entry for WasmSandbox. Builds one runner per language from the assets the loaders
 * produced (those known at start in `init`, each later one in an `add` message as soon as its
 * loader finishes), and runs one execution at a time. The main thread owns the hard deadline: it
 * terminates this thread when the guest does not stop in time.
 */
import { type MessagePort, parentPort } from "node:worker_threads";
import { WASM_RUNTIMES } from "../../../runtimes/wasm-runtimes.js";
import { isGuestLimitError } from "../../../wasm/host/guest-limit.js";
import type { Language } from "../types.js";
import { awaitRelease } from "./handoff.js";
import { HostCallClient } from "./host-call-client.js";
import { PreparationGauge } from "./preparation-gauge.js";
import {
  type AddMessage,
  CANCEL_REQUESTED,
  CONTROL_CANCEL,
  type InitMessage,
  type MainToWorker,
  type RunMessage,
  type RunnerReport,
  type WorkerToMain,
} from "./protocol.js";
import {
  DEFAULT_RUNNER_OPTIONS,
  type Runner,
  type RunnerOptions,
  type RunOutcome,
  type RuntimeAssets,
} from "./runtime.js";
import { SharedOutputSink } from "./shared-output.js";

const port = parentPort;
if (!port) throw new Error("wasm worker must run in a worker thread");

const runners = new Map<Language, Runner>();
let hostPort: MessagePort | undefined;
let runnerOptions: RunnerOptions = DEFAULT_RUNNER_OPTIONS;
let queue: Promise<void> = Promise.resolve();

function send(message: WorkerToMain, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function init(message: InitMessage): Promise<void> {
  hostPort = message.hostPort;
  runnerOptions = { ...message.runner, gauge: new PreparationGauge(message.preparing) };
  const report: RunnerReport[] = [];
  for (const [language, assets] of Object.entries(message.assets) as Array<[Language, RuntimeAssets]>) {
    report.push(await addRunner(language, assets));
  }
  send({ type: "ready", runners: report });
}

async function add(message: AddMessage): Promise<void> {
  send({ type: "added", runner: await addRunner(message.language, message.assets) });
}

async function addRunner(language: Language, assets: RuntimeAssets): Promise<RunnerReport> {
  try {
    if (runners.has(language)) throw new Error(`${language} already has a runner in this worker`);
    const load = WASM_RUNTIMES[language];
    if (!load) throw new Error(`no wasm runtime for ${language}`);
    const started = performance.now();
    runners.set(language, await (await load()).createRunner(assets, runnerOptions));
    return { language, buildMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { language, error: error instanceof Error ? error.message : String(error) };
  }
}

async function run(message: RunMessage): Promise<void> {
  const runner = runners.get(message.request.language);
  if (!runner) {
    fault(message.id, `no runner for ${message.request.language}`);
    return;
  }
  const port = hostPort;
  if (!port) {
    fault(message.id, "the worker has no host-call port");
    return;
  }
  const control = new Int32Array(message.control);
  let deadline = message.deadline;
  const calls = new HostCallClient({
    port,
    control,
    runId: message.id,
    onDeadline: (next) => {
      deadline = next;
    },
  });
  let outcome: RunOutcome;
  try {
    outcome = await runner.run(message.request, {
      limits: message.limits,
      get deadline() {
        return deadline;
      },
      stdout: new SharedOutputSink(message.stdout, message.id),
      stderr: new SharedOutputSink(message.stderr, message.id),
      cancelled: () => Atomics.load(control, CONTROL_CANCEL) === CANCEL_REQUESTED,
      http: (request) => calls.http(request),
    });
  } catch (error) {
    if (!isGuestLimitError(error)) {
      fault(message.id, error instanceof Error ? error.message : String(error));
      return;
    }
    // A limit hit that unwound out of the guest: the files it wrote are not recoverable.
    outcome = { exitCode: null, files: [], error: { code: error.code, message: error.message } };
  }
  const transfer = [...new Set(outcome.files.map((f) => f.content.buffer))].filter(isTransferable);
  send({ type: "result", id: message.id, outcome }, transfer);
  // The next spare is prepared once this returns (SparePool schedules it): the main thread first.
  if (message.handoff) awaitRelease(control);
}

/** Report a host fault and end this worker: its runner state can no longer be trusted. */
function fault(id: number, message: string): void {
  send({ type: "fault", id, message });
  process.exit(1);
}

function isTransferable(buffer: ArrayBufferLike): buffer is ArrayBuffer {
  return buffer instanceof ArrayBuffer && buffer.byteLength > 0;
}

port.on("message", (message: MainToWorker) => {
  queue = queue.then(() => {
    switch (message.type) {
      case "init":
        return init(message);
      case "add":
        return add(message);
      case "run":
        return run(message);
    }
  });
});

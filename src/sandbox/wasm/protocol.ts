/** Messages between WasmSandbox's main thread and its worker threads. */
import type { MessagePort } from "node:worker_threads";
import type { GuestHttpReply, GuestHttpRequest } from "../host-call.js";
import type { Limits } from "../limits.js";
import type { ExecutionRequest, Language } from "../types.js";
import type { RunnerOptions, RunOutcome, RuntimeAssets } from "./runtime.js";

export interface InitMessage {
  readonly type: "init";
  readonly assets: Partial<Record<Language, RuntimeAssets>>;
  /** The worker's host-call channel (transferred): guest effects go out and answers come back here. */
  readonly hostPort: MessagePort;
  /** For every runner this worker builds, at init and on later adds. */
  readonly runner: RunnerOptions;
  /** 4 bytes: the worker's count of background preparations (preparation-gauge.ts), read by the main thread. */
  readonly preparing: SharedArrayBuffer;
}

export interface RunMessage {
  readonly type: "run";
  readonly id: number;
  readonly request: ExecutionRequest;
  readonly limits: Limits;
  readonly deadline: number;
  /**
   * Int32 words: [CONTROL_CANCEL] is 1 once the host asks the guest to stop; [CONTROL_REPLY] counts
   * host-call answers; [CONTROL_HANDOFF] is 1 once the main thread lets the worker go after the run.
   */
  readonly control: SharedArrayBuffer;
  /** After posting the result, wait until the main thread lets go before any background work (handoff.ts). */
  readonly handoff: boolean;
  readonly stdout: SharedArrayBuffer;
  readonly stderr: SharedArrayBuffer;
}

/** A language whose runtime finished loading after the worker started: build its runner. */
export interface AddMessage {
  readonly type: "add";
  readonly language: Language;
  readonly assets: RuntimeAssets;
}

export type MainToWorker = InitMessage | AddMessage | RunMessage;

/** Whether a runner could be created in this worker, and why not. */
export interface RunnerReport {
  readonly language: Language;
  readonly error?: string;
  /** Milliseconds the worker took to build the runner. */
  readonly buildMs?: number;
}

export interface ReadyMessage {
  readonly type: "ready";
  /** The runners of the init message's languages. */
  readonly runners: readonly RunnerReport[];
}

/** The answer to an AddMessage. */
export interface AddedMessage {
  readonly type: "added";
  readonly runner: RunnerReport;
}

export interface ResultMessage {
  readonly type: "result";
  readonly id: number;
  readonly outcome: RunOutcome;
}

/** The runner failed on the host side; the worker exits after sending this. */
export interface FaultMessage {
  readonly type: "fault";
  readonly id: number;
  readonly message: string;
}

export type WorkerToMain = ReadyMessage | AddedMessage | ResultMessage | FaultMessage;

export const CANCEL_REQUESTED = 1;
export const CONTROL_CANCEL = 0;
export const CONTROL_REPLY = 1;
export const CONTROL_HANDOFF = 2;
export const CONTROL_WORDS = 3;

/** Worker -> main on the host-call port: a guest's effect. */
export interface HostCallMessage {
  readonly type: "http";
  readonly runId: number;
  readonly seq: number;
  readonly request: GuestHttpRequest;
}

/** Main -> worker on the host-call port, followed by a bump of the reply counter. */
export interface HostCallAnswer {
  readonly runId: number;
  readonly seq: number;
  readonly reply: GuestHttpReply;
  /** The run's deadline now (later than before when the call waited for a human). */
  readonly deadline: number;
}

/** Messages between WasmSandbox's main thread and its worker threads. */
import type { Limits } from "../limits.js";
import type { ExecutionRequest, Language } from "../types.js";
import type { RunOutcome, RuntimeAssets } from "./runtime.js";

export interface InitMessage {
  readonly type: "init";
  readonly assets: Partial<Record<Language, RuntimeAssets>>;
}

export interface RunMessage {
  readonly type: "run";
  readonly id: number;
  readonly request: ExecutionRequest;
  readonly limits: Limits;
  readonly deadline: number;
  /** Int32 flag: 1 once the host asks the guest to stop. */
  readonly control: SharedArrayBuffer;
  readonly stdout: SharedArrayBuffer;
  readonly stderr: SharedArrayBuffer;
}

export type MainToWorker = InitMessage | RunMessage;

export interface ReadyMessage {
  readonly type: "ready";
  /** Languages whose runner could be created in this worker, and why others could not. */
  readonly runners: ReadonlyArray<{ language: Language; error?: string }>;
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

export type WorkerToMain = ReadyMessage | ResultMessage | FaultMessage;

export const CANCEL_REQUESTED = 1;

/**
 * The host-side event loop for one run inside QuickJS: executes pending jobs in bounded slices
 * (never `executePendingJobs(-1)`), fires the shims' timers when due, sleeps on the host (not in
 * QuickJS) while only a timer is pending, answers the guest's HTTP requests when the guest waits on
 * one (http-bridge.ts), and stops at the deadline or on cancellation. Between
 * slices it yields to the host event loop now and then, so the worker stays responsive.
 */
import type { QuickJSRuntime } from "quickjs-emscripten-core";
import { isGuestLimitError } from "../../wasm/host/guest-limit.js";
import { type GuestApi, GuestException } from "./guest-api.js";
import { type HostHttp, serveHttp } from "./http-bridge.js";

/** Jobs per executePendingJobs call. */
const JOB_SLICE = 512;
/** Timers fired per call. */
const TIMER_SLICE = 64;
/** Longest uninterrupted stretch of guest work before yielding to the host event loop. */
const YIELD_AFTER_MS = 25;
/** Longest host sleep between cancellation checks while the guest waits on a timer. */
const SLEEP_SLICE_MS = 20;

export interface PumpControl {
  /**
   * Epoch ms after which the guest must stop. Read at every use: it moves later after an HTTP
   * request that waited for a human (give a getter over RunContext.deadline, never a copy).
   */
  readonly deadline: number;
  /** True once the run must stop (deadline reached or cancelled). Also the QuickJS interrupt check. */
  readonly shouldStop: () => boolean;
  /** Answers the guest's HTTP requests (RunContext.http). */
  readonly http: HostHttp;
}

export type PumpEnd = "settled" | "interrupted" | "stalled";

export async function drive(
  runtime: QuickJSRuntime,
  api: GuestApi,
  control: PumpControl,
  interrupted: () => boolean,
): Promise<PumpEnd> {
  let sliceStart = Date.now();
  for (;;) {
    if (interrupted() || control.shouldStop()) return "interrupted";
    const jobs = runtime.executePendingJobs(JOB_SLICE);
    if (jobs.error) {
      const error = jobs.error.context.dump(jobs.error) as { name?: unknown; message?: unknown } | undefined;
      jobs.error.dispose();
      if (interrupted()) return "interrupted";
      throw new GuestException(String(error?.name ?? "Error"), String(error?.message ?? error));
    }
    // An interrupt inside a job may surface as a rejected promise that just-bash handles, so the
    // flag, not the guest's state, decides.
    if (interrupted() || control.shouldStop()) return "interrupted";
    const state = api.state();
    if (state === "settled") return "settled";
    if (state === "http") {
      try {
        serveHttp(api, control.http);
      } catch (error) {
        // Cancelled (or past the deadline) while the host was answering.
        if (isGuestLimitError(error)) return "interrupted";
        throw error;
      }
      sliceStart = Date.now();
      continue;
    }
    if (jobs.value > 0) {
      if (Date.now() - sliceStart >= YIELD_AFTER_MS) {
        await yieldToHost();
        sliceStart = Date.now();
      }
      continue;
    }
    const due = api.nextTimer();
    if (due < 0) return "stalled";
    const now = Date.now();
    if (due > now) {
      await sleep(Math.min(due, control.deadline) - now, control);
      sliceStart = Date.now();
      continue;
    }
    api.runTimers(now, TIMER_SLICE);
  }
}

function yieldToHost(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function sleep(ms: number, control: PumpControl): Promise<void> {
  const until = Date.now() + Math.max(0, ms);
  while (Date.now() < until && !control.shouldStop()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(SLEEP_SLICE_MS, until - Date.now())));
  }
}

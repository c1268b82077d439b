/**
 * The worker's end of a host call: the guest's thread posts the request on the worker's host-call
 * port and blocks (Atomics.wait) until the main thread has posted the answer and bumped the reply
 * counter, then takes the answer with receiveMessageOnPort. The guest cannot run while it waits.
 *
 * The wait wakes every WAIT_SLICE_MS to look at the cancel flag, so a run the host stops while it
 * waits ends with TIMEOUT instead of sleeping until the worker is terminated.
 */
import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { GuestLimitError } from "../../../wasm/host/guest-limit.js";
import {
  type GuestHttpReply,
  type GuestHttpRequest,
  isGuestHeaderList,
  MAX_GUEST_REQUEST_BODY_BYTES,
  MAX_GUEST_URL_LENGTH,
} from "../host-call.js";
import {
  CANCEL_REQUESTED,
  CONTROL_CANCEL,
  CONTROL_REPLY,
  type HostCallAnswer,
  type HostCallMessage,
} from "./protocol.js";

const WAIT_SLICE_MS = 50;

export interface HostCallClientOptions {
  readonly port: MessagePort;
  /** The run's control words (cancel flag, reply counter). */
  readonly control: Int32Array;
  readonly runId: number;
  /** Receives the run's deadline after a call that paused it. */
  onDeadline(deadline: number): void;
}

export class HostCallClient {
  private seq = 0;

  constructor(private readonly options: HostCallClientOptions) {}

  http(request: GuestHttpRequest): GuestHttpReply {
    const invalid = checkRequest(request);
    if (invalid !== undefined) return { ok: false, code: "EGRESS_INVALID_REQUEST", message: invalid };
    const { port, control, runId } = this.options;
    // A stale answer (from a call whose run was cancelled mid-wait) must not answer this one.
    while (receiveMessageOnPort(port) !== undefined) {}
    const seq = ++this.seq;
    const body = request.body === undefined ? undefined : request.body.slice();
    const message: HostCallMessage = {
      type: "http",
      runId,
      seq,
      request: {
        method: request.method,
        url: request.url,
        headers: request.headers.map(([name, value]) => [name, value]),
        redirect: request.redirect,
        ...(body !== undefined ? { body } : {}),
      },
    };
    port.postMessage(message, body !== undefined ? [body.buffer as ArrayBuffer] : []);
    for (;;) {
      // Read the counter before looking for the answer: an answer posted after this read changes
      // it, so the wait below returns at once instead of missing the wake-up.
      const observed = Atomics.load(control, CONTROL_REPLY);
      const received = receiveMessageOnPort(port);
      if (received !== undefined) {
        const answer = received.message as HostCallAnswer;
        if (answer.runId !== runId || answer.seq !== seq) continue;
        this.options.onDeadline(answer.deadline);
        return answer.reply;
      }
      if (Atomics.load(control, CONTROL_CANCEL) === CANCEL_REQUESTED) {
        throw new GuestLimitError("TIMEOUT", "the execution was stopped while a host call was in flight");
      }
      Atomics.wait(control, CONTROL_REPLY, observed, WAIT_SLICE_MS);
    }
  }
}

/** Why a request cannot go to the host at all (a binding bug or a guest bypassing its binding). */
function checkRequest(request: GuestHttpRequest): string | undefined {
  if (typeof request !== "object" || request === null) return "the request must be an object";
  if (typeof request.method !== "string" || request.method.length > 16) return "the method must be a short string";
  if (typeof request.url !== "string" || request.url.length > MAX_GUEST_URL_LENGTH) {
    return `the url must be a string of at most ${MAX_GUEST_URL_LENGTH} characters`;
  }
  if (!Array.isArray(request.headers) || request.headers.length > 256) return "headers must be a list of pairs";
  if (!isGuestHeaderList(request.headers)) return "every header must be a [name, value] pair of strings";
  if (request.body !== undefined && !(request.body instanceof Uint8Array)) return "the body must be bytes";
  if (request.body !== undefined && request.body.byteLength > MAX_GUEST_REQUEST_BODY_BYTES) {
    return `the body is larger than ${MAX_GUEST_REQUEST_BODY_BYTES} bytes`;
  }
  if (request.redirect !== "follow" && request.redirect !== "manual") return 'redirect must be "follow" or "manual"';
  return undefined;
}

/**
 * Effects as host calls: the one way a guest asks the host to act outside the sandbox. Today the
 * only effect is an HTTP request. The guest never gets a socket; its language binding (Python
 * `sandbox.http`, JavaScript `fetch`, Ruby `Sandbox::HTTP`, Bash `curl`) turns a call into a
 * `GuestHttpRequest`, the runner hands it to `RunContext.http`, which blocks the guest's thread until
 * the host answers with a `GuestHttpReply`.
 *
 * Host side: the sandbox passes the request to the execution's `EffectHandler` (the executor builds
 * one per execution from the tool policy: src/egress). An execution without a handler has no
 * network: every call is refused with EGRESS_DENIED.
 *
 * Refusals are data (`ok: false` with a stable code), never exceptions: the binding raises them as
 * an error in the guest's own language, carrying the code.
 */

export type GuestHeaderList = Array<[string, string]>;

/** Whether a value from a guest (parsed JSON, a message) is a list of [name, value] string pairs. */
export function isGuestHeaderList(value: unknown): value is GuestHeaderList {
  return (
    Array.isArray(value) &&
    value.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every((s) => typeof s === "string"))
  );
}

export interface GuestHttpRequest {
  /** Upper-case or not; the host normalises and validates. */
  readonly method: string;
  readonly url: string;
  readonly headers: GuestHeaderList;
  readonly body?: Uint8Array;
  readonly redirect: "follow" | "manual";
}

export type GuestHttpReply =
  | {
      readonly ok: true;
      readonly status: number;
      readonly statusText: string;
      readonly headers: GuestHeaderList;
      readonly body: Uint8Array;
      /** The final URL, after redirects. */
      readonly url: string;
      readonly redirected: boolean;
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface EffectControl {
  /** Aborted when the execution ends (deadline, cancellation): calls in flight should stop. */
  readonly signal: AbortSignal;
  /**
   * Stops the execution's deadline clock while the host waits for a human; returns the function
   * that starts it again. Waiting for a person never counts against the guest's time limit.
   */
  pauseDeadline(): () => void;
}

/** The host's side of an execution's effects; answers every call, never throws for a guest cause. */
export interface EffectHandler {
  http(request: GuestHttpRequest, control: EffectControl): Promise<GuestHttpReply>;
}

/** The answer when an execution has no effect handler. */
export const NO_NETWORK_REPLY: GuestHttpReply = Object.freeze({
  ok: false,
  code: "EGRESS_DENIED",
  message: "The egress policy does not allow this request. (this execution has no network access)",
});

/** Caps on what a guest may hand the host in one call, checked before the call leaves the worker. */
export const MAX_GUEST_REQUEST_BODY_BYTES = 8 * 1024 * 1024;
export const MAX_GUEST_URL_LENGTH = 8192;

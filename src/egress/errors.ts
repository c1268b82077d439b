/**
 * The stable codes an egress call can fail with. They reach the guest as data (an error in its own
 * language), never as a host crash, and are listed under "Effect errors" in docs/errors.md.
 * `DRY_RUN`, `APPROVAL_DENIED` and `APPROVAL_EXPIRED` share their names and meaning with the
 * service-wide codes of src/errors.ts, applied to one call.
 *
 * Messages are ours, fixed per code plus a reason we composed: never an upstream error text, never
 * a header value, never a secret.
 */
export const EGRESS_ERRORS = {
  EGRESS_INVALID_URL: "The URL is not an http(s) URL egress can use.",
  EGRESS_INVALID_REQUEST: "The request is malformed (method, headers or body).",
  EGRESS_DENIED: "The egress policy does not allow this request.",
  EGRESS_ADDRESS_DENIED: "The host resolves to an address egress may not connect to.",
  EGRESS_DNS_FAILED: "The host name could not be resolved.",
  EGRESS_CONNECT_FAILED: "The connection to the host failed.",
  EGRESS_PROTOCOL_ERROR: "The server's response was not valid HTTP.",
  EGRESS_TOO_LARGE: "The response is larger than the egress limit.",
  EGRESS_TIMEOUT: "The request did not complete within the egress time limit.",
  EGRESS_TOO_MANY_REDIRECTS: "The request was redirected more times than allowed.",
  EGRESS_TOO_MANY_REQUESTS: "This execution has made as many egress requests as it may.",
  EGRESS_CREDENTIAL_UNAVAILABLE: "The credential the policy attaches to this host is not available.",
  EGRESS_APPROVAL_UNAVAILABLE: "The request needs approval and no approval could be obtained.",
  EGRESS_ABORTED: "The execution ended while the request was in flight.",
  EGRESS_INTERNAL: "The host failed while handling the request.",
  APPROVAL_DENIED: "A human denied this request.",
  APPROVAL_EXPIRED: "The approval for this request expired before anyone decided.",
  DRY_RUN: "Dry run: the request was not sent and no mock answers it.",
} as const;

export type EgressErrorCode = keyof typeof EGRESS_ERRORS;

export interface EgressError {
  readonly code: EgressErrorCode;
  readonly message: string;
}

export function egressError(code: EgressErrorCode, reason?: string): EgressError {
  return { code, message: reason === undefined ? EGRESS_ERRORS[code] : `${EGRESS_ERRORS[code]} ${reason}` };
}

/** A refusal carried through the call as an exception, turned back into data at its boundary. */
export class EgressFailure extends Error {
  readonly error: EgressError;
  /** Set when the refusal is a policy or address decision rather than a transport fault. */
  readonly denied: boolean;

  constructor(code: EgressErrorCode, reason?: string, denied = false) {
    const error = egressError(code, reason);
    super(error.message);
    this.name = "EgressFailure";
    this.error = error;
    this.denied = denied;
  }
}

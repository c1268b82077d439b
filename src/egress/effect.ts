/**
 * The `effect` record every egress call produces, for the execution timeline (an `effect` audit
 * event) and, in a dry run, the manifest. It holds what happened, never what was said: method, URL
 * without userinfo and with the query elided, decisions, status, sizes, timings, the secret's name
 * when a credential was attached; never headers, bodies or secret values (a value echoed into a
 * redirect URL is redacted here as in the response).
 */

import type { EgressErrorCode } from "./errors.js";
import type { EgressDecisionKind } from "./match.js";

export interface EgressHop {
  readonly url: string;
  readonly decision: EgressDecisionKind;
  readonly reason: string;
  readonly approval?: "approved" | "denied" | "expired" | "unavailable";
  /** The address connected to, after the check. */
  readonly address?: string;
  readonly status?: number;
}

export interface EgressEffect {
  readonly effect: "egress";
  readonly method: string;
  /** The URL the guest asked for (display form); empty when it could not be parsed. */
  readonly url: string;
  /** `allow` when a response reached the guest (from the network or a mock), else `deny`. */
  readonly decision: "allow" | "deny";
  readonly reason: string;
  readonly code?: EgressErrorCode;
  readonly status?: number;
  /** Response body bytes handed to the guest. */
  readonly bytes: number;
  readonly requestBytes: number;
  /** Wall time of the call, approval waits included. */
  readonly durationMs: number;
  /** Of which: waiting for a human. */
  readonly waitedMs: number;
  /** Whether anything left the host. */
  readonly performed: boolean;
  readonly dryRun: boolean;
  readonly answeredBy: "network" | "mock" | "DRY_RUN" | "none";
  /** Names of the secrets rules attached on the way (withheld in a dry run: named, never looked up). */
  readonly credentials: readonly string[];
  readonly hops: readonly EgressHop[];
}

/**
 * What an API key may do. Scopes are explicit: none implies another (`admin` does not grant
 * `execute`), so a key can do exactly what its entry lists.
 */
export const SCOPES = ["execute", "approve", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Who made a request: the key's configured name (never the key) and its scopes. */
export interface Principal {
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
}

/**
 * The configured API keys, held only as SHA-256 digests. `authenticate` answers the principal for a
 * presented key or undefined, in time independent of which key (if any) matched.
 */
import { type Digest, findDigest, sha256 } from "./key-digest.js";
import { type KeyEntry, KeysFileError } from "./keys-file.js";
import { type Principal, SCOPES, type Scope } from "./scopes.js";

interface StoredKey {
  readonly principal: Principal;
  readonly digest: Buffer;
}

export class KeyRing {
  private readonly keys: readonly StoredKey[];
  private readonly digests: readonly Buffer[];

  constructor(
    entries: readonly KeyEntry[],
    private readonly digest: Digest = sha256,
  ) {
    const keys: StoredKey[] = [];
    const seen = new Set<string>();
    for (const entry of entries) {
      const stored = entry.keySha256 !== undefined ? Buffer.from(entry.keySha256, "hex") : digest(entry.key ?? "");
      const hex = stored.toString("hex");
      if (seen.has(hex)) throw new KeysFileError(`API key ${entry.name} duplicates another entry's key`);
      seen.add(hex);
      if (keys.some((k) => k.principal.name === entry.name))
        throw new KeysFileError(`two API keys are named ${entry.name}`);
      keys.push({ digest: stored, principal: { name: entry.name, scopes: new Set<Scope>(entry.scopes) } });
    }
    this.keys = keys;
    this.digests = keys.map((k) => k.digest);
  }

  /** `SANDBOX_API_KEY`: one key named `default` with every scope. */
  static entryForSingleKey(key: string): KeyEntry {
    return { name: "default", key, scopes: [...SCOPES] };
  }

  get size(): number {
    return this.keys.length;
  }

  names(): string[] {
    return this.keys.map((k) => k.principal.name);
  }

  authenticate(presented: string): Principal | undefined {
    const index = findDigest(presented, this.digests, this.digest);
    return index === -1 ? undefined : this.keys[index]?.principal;
  }
}

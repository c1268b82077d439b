/**
 * Builds the key ring at startup from SANDBOX_API_KEY and SANDBOX_API_KEYS_FILE. With neither, and
 * key generation on, a first-run key is generated into the data directory (or read back from it).
 * With no key at all the ring is empty and every /v1 request is refused: never open by accident.
 * `--no-auth` is the only way to serve without keys, and it is announced loudly.
 */
import { statSync } from "node:fs";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { loadOrCreateKey } from "./first-run-key.js";
import { KeyRing } from "./key-ring.js";
import { type KeyEntry, readKeysFile } from "./keys-file.js";
import { SCOPES } from "./scopes.js";

export type KeyConfig = Pick<Config, "apiKey" | "apiKeysFile" | "dataDir" | "generateApiKey" | "noAuth" | "host">;

export interface LoadedKeys {
  /** undefined only with `--no-auth`. */
  readonly ring: KeyRing | undefined;
  /** Set when this start generated a key: the caller shows it once. */
  readonly generated?: { readonly key: string; readonly path: string };
}

export const GENERATED_KEY_NAME = "generated";

export async function loadKeys(config: KeyConfig, logger: Logger): Promise<LoadedKeys> {
  if (config.noAuth) {
    logger.warn(
      { host: config.host },
      "AUTHENTICATION IS DISABLED (--no-auth): anyone who can reach this server can run code on it. Never expose it beyond a trusted network.",
    );
    return { ring: undefined };
  }
  const entries: KeyEntry[] = [];
  if (config.apiKey !== undefined) entries.push(KeyRing.entryForSingleKey(config.apiKey));
  if (config.apiKeysFile !== undefined) {
    const fromFile = readKeysFile(config.apiKeysFile);
    if (fromFile.some((e) => e.key !== undefined) && (statSync(config.apiKeysFile).mode & 0o077) !== 0) {
      logger.warn(
        { path: config.apiKeysFile },
        "the API keys file holds plaintext keys and is readable by other users: chmod 600 it, or store keySha256 instead",
      );
    }
    entries.push(...fromFile);
  }
  let generated: LoadedKeys["generated"];
  const nothingConfigured = config.apiKey === undefined && config.apiKeysFile === undefined;
  if (nothingConfigured && config.generateApiKey) {
    try {
      const stored = await loadOrCreateKey(config.dataDir);
      entries.push({ name: GENERATED_KEY_NAME, key: stored.key, scopes: [...SCOPES] });
      if (stored.created) generated = { key: stored.key, path: stored.path };
      else logger.info({ path: stored.path }, "using the API key stored in the data directory");
    } catch (error) {
      logger.error({ err: error, dataDir: config.dataDir }, "could not create or read the first-run API key");
    }
  }
  const ring = new KeyRing(entries);
  if (ring.size === 0) {
    logger.warn(
      "no API key is configured: every /v1 request will be refused with 401. Set SANDBOX_API_KEY or SANDBOX_API_KEYS_FILE (or start with --no-auth on a trusted network).",
    );
  } else {
    logger.info({ keys: ring.names() }, "API keys loaded");
  }
  return generated ? { ring, generated } : { ring };
}

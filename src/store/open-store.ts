/**
 * Opens the store the configuration names. Today that is the embedded SQLite file
 * (`SANDBOX_STORE_PATH`, default `<data dir>/inline-sandbox.db`), synced per `SANDBOX_STORE_SYNC`. When it cannot be opened the
 * server still starts (health, runtimes), but every operation that needs the store answers
 * STORE_UNAVAILABLE: nothing runs unrecorded.
 */
import { join, resolve } from "node:path";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import type { ControlStore } from "./store.js";
import { UnavailableStore } from "./unavailable-store.js";

export const STORE_FILE_NAME = "inline-sandbox.db";

export function storePath(config: Pick<Config, "dataDir" | "storePath">): string {
  return config.storePath ?? join(resolve(config.dataDir), STORE_FILE_NAME);
}

export function openStore(config: Pick<Config, "dataDir" | "storePath" | "storeSync">, logger: Logger): ControlStore {
  const path = storePath(config);
  const log = logger.child({ component: "store" });
  try {
    const store = SqliteStore.open({ path, logger: log, synchronous: config.storeSync });
    log.info({ path, ...store.durability() }, "store opened");
    return store;
  } catch (error) {
    log.error(
      { err: error, path },
      "could not open the store: every execution and tool operation will answer STORE_UNAVAILABLE",
    );
    return new UnavailableStore();
  }
}

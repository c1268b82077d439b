/**
 * First-run friendliness without giving up security: when nothing is configured, a random key is
 * generated into the data directory (directory 0700, file 0600, created exclusively so a planted
 * file or symlink is never followed) and handed back once so the caller can print it. On later runs
 * the stored key is read back, after checking it is a regular file nobody else can read.
 */
import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import { join, resolve } from "node:path";

export const KEY_FILE_NAME = "api-key";

export interface StoredKey {
  readonly key: string;
  readonly path: string;
  /** True when this call generated the key: the only time it should be shown. */
  readonly created: boolean;
}

export function generateApiKey(): string {
  return `isk_${randomBytes(32).toString("base64url")}`;
}

export async function loadOrCreateKey(dataDir: string): Promise<StoredKey> {
  const dir = resolve(dataDir);
  const path = join(dir, KEY_FILE_NAME);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const key = generateApiKey();
  try {
    const handle = await fs.open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      await handle.writeFile(`${key}\n`, "utf8");
      await handle.chmod(0o600);
    } finally {
      await handle.close();
    }
    return { key, path, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return { key: await readStoredKey(path), path, created: false };
}

async function readStoredKey(path: string): Promise<string> {
  const handle = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new Error(
        `${path} is readable by other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    const key = (await handle.readFile("utf8")).trim();
    if (key.length < 16) throw new Error(`${path} does not hold a usable API key; delete it to generate a new one`);
    return key;
  } finally {
    await handle.close();
  }
}

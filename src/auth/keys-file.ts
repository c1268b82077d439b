/**
 * `SANDBOX_API_KEYS_FILE`: a JSON array of `{ name, key? | keySha256?, scopes }`. Each entry holds
 * exactly one of the plaintext key or its SHA-256 (hex); names and keys are unique. A bad file stops
 * the server with a message naming the entry, never echoing a key.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { SCOPES } from "./scopes.js";

export const MIN_KEY_LENGTH = 16;

export const keyEntrySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, { message: "names are 1-64 of letters, digits and . _ : -" }),
    key: z
      .string()
      .min(MIN_KEY_LENGTH, { message: `keys are at least ${MIN_KEY_LENGTH} characters` })
      .max(512)
      .regex(/^[\x21-\x7e]+$/, { message: "keys are visible ASCII without spaces" })
      .optional(),
    keySha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, { message: "keySha256 is 64 hex digits" })
      .optional(),
    scopes: z.array(z.enum(SCOPES)).min(1, { message: "at least one scope" }),
  })
  .strict()
  .refine((e) => (e.key === undefined) !== (e.keySha256 === undefined), {
    message: "give exactly one of key and keySha256",
  });

export type KeyEntry = z.infer<typeof keyEntrySchema>;

export class KeysFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeysFileError";
  }
}

export function parseKeysFile(text: string, source: string): KeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeysFileError(`${source}: not valid JSON`);
  }
  const parsed = z.array(keyEntrySchema).safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 10).map((i) => `  [${i.path.join(".")}] ${i.message}`);
    throw new KeysFileError(`${source}: invalid key entries:\n${lines.join("\n")}`);
  }
  const names = new Set<string>();
  for (const entry of parsed.data) {
    if (names.has(entry.name)) throw new KeysFileError(`${source}: the name ${entry.name} appears twice`);
    names.add(entry.name);
  }
  return parsed.data;
}

export function readKeysFile(path: string): KeyEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new KeysFileError(`${path}: cannot read the API keys file (${code})`);
  }
  return parseKeysFile(text, path);
}

/**
 * The snapshot cache end to end: a WasmSandbox started with a cache directory boots Python, Ruby and
 * Bash and stores their snapshots; started again (a restart) it loads them from the cache, boots
 * nothing, and serves each language.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../logger.js";
import { DEFAULT_LIMITS } from "../limits.js";
import type { Language } from "../types.js";
import { WasmSandbox } from "./wasm-sandbox.js";

const LANGUAGES = ["python", "ruby", "bash"] as const satisfies readonly Language[];
const PRINT_ONE: Record<(typeof LANGUAGES)[number], string> = { python: "print(1)", ruby: "puts 1", bash: "echo 1" };

const root = mkdtempSync(join(tmpdir(), "boot-cache-restart-"));
const cacheDir = join(root, "snapshots");
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts a sandbox with the cache, runs print(1) in each language, returns the cache's log lines. */
async function startAndServe(): Promise<Array<{ msg: string; language?: string }>> {
  const lines: Array<{ msg: string; language?: string }> = [];
  const logger = createLogger({
    level: "info",
    destination: { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) },
  });
  const sandbox = await WasmSandbox.create({ logger, workers: 1, languages: LANGUAGES, snapshotCacheDir: cacheDir });
  try {
    expect(sandbox.unavailable).toEqual([]);
    for (const language of LANGUAGES) {
      const result = await sandbox.execute(
        { language, code: PRINT_ONE[language], stdin: "", args: [], env: {}, files: [] },
        { limits: DEFAULT_LIMITS },
      );
      expect({ language, exitCode: result.exitCode, stdout: result.stdout }).toEqual({
        language,
        exitCode: 0,
        stdout: "1\n",
      });
    }
  } finally {
    await sandbox[Symbol.asyncDispose]();
  }
  return lines.filter((line) => line.msg.startsWith("snapshot cache"));
}

const byLanguage = (lines: Array<{ msg: string; language?: string }>, msg: string) =>
  lines
    .filter((line) => line.msg === msg)
    .map((line) => line.language)
    .sort();

describe("snapshot cache across a restart", () => {
  it("boots and stores each language's snapshot, then serves each from the cache after a restart", async () => {
    const first = await startAndServe();
    expect(byLanguage(first, "snapshot cache stored")).toEqual(["bash", "python", "ruby"]);
    expect(readdirSync(cacheDir).filter((name) => name.endsWith(".bin"))).toHaveLength(3);

    const second = await startAndServe();
    expect(byLanguage(second, "snapshot cache hit")).toEqual(["bash", "python", "ruby"]);
    expect(byLanguage(second, "snapshot cache miss")).toEqual([]);
    expect(byLanguage(second, "snapshot cache stored")).toEqual([]);
  }, 90_000);
});

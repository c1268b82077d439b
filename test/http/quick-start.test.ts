/**
 * The README's quick start, as a user runs it: the compiled server (`npm start` runs dist/src/main.js,
 * built and bundled by `npm install`'s prepare step) in an empty directory, with nothing configured. It must
 * generate a key, serve every language on the wasm sandbox, and run code.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_BANNER, DIST_ENTRIES } from "../../src/build/bundle-dist.js";

const main = new URL("../../dist/src/main.js", import.meta.url);
const cwd = mkdtempSync(join(tmpdir(), "quick-start-"));
let child: ChildProcess;
let url = "";
let key = "";

beforeAll(async () => {
  expect(existsSync(main), "dist/ is missing: npm install (or npm run build) builds it").toBe(true);
  child = spawn(process.execPath, [main.pathname, "--port", "0"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let logs = "";
  child.stdout?.on("data", (chunk) => {
    logs += String(chunk);
  });
  for (let i = 0; i < 600 && !url; i++) {
    url = /"url":"(http:\/\/[^"]+)"/.exec(logs)?.[1] ?? "";
    if (!url) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(url).not.toBe("");
  for (let i = 0; i < 600; i++) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  key = readFileSync(join(cwd, ".data/api-key"), "utf8").trim();
}, 180_000);

afterAll(async () => {
  // The server must shut down on SIGTERM by itself; a stray server would outlive the test run.
  const exited = new Promise<boolean>((resolve) => {
    if (!child || child.exitCode !== null) return resolve(true);
    const timer = setTimeout(() => resolve(false), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  child?.kill("SIGTERM");
  const clean = await exited;
  if (!clean) child?.kill("SIGKILL");
  rmSync(cwd, { recursive: true, force: true });
  expect(clean, "the server did not exit within 15 s of SIGTERM").toBe(true);
}, 30_000);

describe("quick start from the compiled server", () => {
  it("runs the build's bundles (src/build/bundle-dist.ts)", () => {
    for (const entry of DIST_ENTRIES) {
      const text = readFileSync(new URL(`../../dist/${entry}`, import.meta.url), "utf8");
      expect(text.startsWith(BUNDLE_BANNER), entry).toBe(true);
    }
  });

  it("stores the generated key with mode 0600", () => {
    expect(key).toMatch(/^isk_/);
    expect(statSync(join(cwd, ".data/api-key")).mode & 0o777).toBe(0o600);
  });

  it("offers all four languages on the wasm sandbox", async () => {
    const runtimes = (await (
      await fetch(`${url}/v1/runtimes`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as {
      sandboxes: Array<{ kind: string; languages: Array<{ language: string }> }>;
    };
    const wasm = runtimes.sandboxes.find((s) => s.kind === "wasm");
    expect(wasm?.languages.map((l) => l.language).sort()).toEqual(["bash", "javascript", "python", "ruby"]);
  });

  it.each([
    ["javascript", "console.log(6 * 7)"],
    ["ruby", "puts 6 * 7"],
    ["python", "print(6 * 7)"],
    ["bash", "echo $((6 * 7))"],
  ])("runs %s", async (language, code) => {
    const response = await fetch(`${url}/v1/execute`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ language, code }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sandbox: "wasm", exitCode: 0, stdout: "42\n" });
  });
});

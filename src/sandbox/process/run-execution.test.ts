import { describe, expect, it } from "vitest";
import { isServiceError } from "../../errors.js";
import { DEFAULT_LIMITS } from "../limits.js";
import type { ExecutionRequest } from "../types.js";
import { decodeOutput, runExecution, workspaceInputs } from "./run-execution.js";

const enc = (s: string) => new TextEncoder().encode(s);
const base: ExecutionRequest = { language: "python", code: "print(1)", stdin: "", args: [], env: {}, files: [] };

describe("workspaceInputs", () => {
  it("normalises paths, and the script wins over a request file of the same name", () => {
    const files = workspaceInputs({
      ...base,
      files: [
        { path: "/workspace/a//b.txt", content: enc("b") },
        { path: "main.py", content: enc("not the script") },
      ],
    });
    expect(files.map((f) => f.path)).toEqual(["a/b.txt", "main.py"]);
    expect(new TextDecoder().decode(files[1]?.content)).toBe("print(1)");
  });
});

describe("runExecution", () => {
  const plan = {
    runtime: {
      language: "python" as const,
      name: "python",
      binary: "python3",
      argv: (script: string) => [script],
      versionArgs: [],
      parseVersion: (o: string) => o,
    },
    info: { name: "python", version: "x" },
    workspaceBaseDir: "/tmp",
    owner: undefined,
    guestWorkspace: (dir: string) => dir,
    guestPath: "/usr/bin:/bin",
    launch: () => {
      throw new Error("must not launch");
    },
  };

  it("refuses an escaping path as a validation error, before launching anything", async () => {
    const error = await runExecution(
      plan,
      { ...base, files: [{ path: "../x", content: enc("x") }] },
      { limits: DEFAULT_LIMITS },
    ).catch((e: unknown) => e);
    expect(isServiceError(error) && error.code).toBe("VALIDATION_FAILED");
  });

  it("refuses inputs over the quota without launching", async () => {
    const r = await runExecution(
      plan,
      { ...base, files: [{ path: "big", content: new Uint8Array(2048) }] },
      {
        limits: { ...DEFAULT_LIMITS, maxFilesystemBytes: 1024 },
      },
    );
    expect(r.error?.code).toBe("FILESYSTEM_LIMIT");
    expect(r.exitCode).toBeNull();
  });
});

describe("decodeOutput", () => {
  it("drops a multi-byte character cut in half by the cap, and only then", () => {
    const euro = Buffer.from("a€", "utf8"); // 61 e2 82 ac
    expect(decodeOutput(euro.subarray(0, 3), true)).toBe("a");
    expect(decodeOutput(euro.subarray(0, 2), true)).toBe("a");
    expect(decodeOutput(euro, true)).toBe("a€");
    expect(decodeOutput(Buffer.from("abc"), true)).toBe("abc");
    expect(decodeOutput(euro.subarray(0, 3), false)).toBe("a\ufffd");
  });
});

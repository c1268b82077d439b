import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/sandbox/limits.js";
import { guestLimits } from "./execution-limits.js";
import { classifyFailure, classifySettled } from "./outcome.js";

describe("classifySettled", () => {
  it("returns no error for status 0 and NON_ZERO_EXIT otherwise", () => {
    expect(classifySettled(0, "warning on stderr\n")).toBeUndefined();
    expect(classifySettled(3, "")).toEqual({ code: "NON_ZERO_EXIT", message: "The script exited with status 3." });
  });

  it("maps just-bash's byte limits on a status-126 exit", () => {
    expect(classifySettled(126, "bash: word expansion: string length limit exceeded (4194304 bytes)\n")?.code).toBe(
      "MEMORY_LIMIT",
    );
    expect(
      classifySettled(
        126,
        "bash: pipeline: total output size exceeded (>9216 bytes), increase executionLimits.maxOutputSize\n",
      )?.code,
    ).toBe("OUTPUT_LIMIT");
    expect(classifySettled(126, "bash: seq: output size limit exceeded (132096 bytes)\n")?.code).toBe("OUTPUT_LIMIT");
    expect(classifySettled(126, "x: ENOSPC: in-memory filesystem byte limit exceeded (100 bytes)\n")?.code).toBe(
      "FILESYSTEM_LIMIT",
    );
  });

  it("keeps structural limits as NON_ZERO_EXIT", () => {
    expect(
      classifySettled(126, "bash: f: maximum recursion depth (100) exceeded, increase executionLimits.maxCallDepth\n")
        ?.code,
    ).toBe("NON_ZERO_EXIT");
    expect(classifySettled(126, "bash: brace expansion: brace_operations work limit exceeded (10000)\n")?.code).toBe(
      "NON_ZERO_EXIT",
    );
  });

  it("looks only at the last stderr line, and only on a failing exit", () => {
    expect(classifySettled(126, "string length limit exceeded\nsomething else\n")?.code).toBe("NON_ZERO_EXIT");
    expect(classifySettled(0, "bash: out of memory\n")).toBeUndefined();
    expect(classifySettled(1, "bash: out of memory\n")?.code).toBe("MEMORY_LIMIT");
  });

  it("reports MEMORY_LIMIT for any failing exit once the host refused to grow memory", () => {
    expect(classifySettled(2, "cat: something failed\n", true)?.code).toBe("MEMORY_LIMIT");
    expect(classifySettled(0, "", true)).toBeUndefined();
  });
});

describe("classifyFailure", () => {
  it("maps exceptions that escaped just-bash", () => {
    expect(classifyFailure("InternalError", "out of memory").code).toBe("MEMORY_LIMIT");
    expect(classifyFailure("Error", "ENOSPC: in-memory filesystem byte limit exceeded (10 bytes)").code).toBe(
      "FILESYSTEM_LIMIT",
    );
    expect(classifyFailure("TypeError", "x is not a function")).toEqual({
      code: "SANDBOX_FAULT",
      message: "just-bash failed: TypeError: x is not a function",
    });
  });
});

describe("guestLimits", () => {
  it("lifts compute counters, scales byte limits to the memory limit and bounds output", () => {
    const { limits, writableBytes } = guestLimits({
      ...DEFAULT_LIMITS,
      memoryLimitBytes: 64 * 1024 * 1024,
      maxOutputBytes: 4096,
    });
    expect(limits.maxLoopIterations).toBe(Number.MAX_SAFE_INTEGER);
    expect(limits.maxCommandCount).toBe(Number.MAX_SAFE_INTEGER);
    expect(limits.maxStringLength).toBe(4 * 1024 * 1024);
    expect(limits.maxOutputSize).toBe(2 * 4096 + 16 * 1024);
    expect(limits.maxExecutionTimeMs).toBeGreaterThan(DEFAULT_LIMITS.timeoutMs + DEFAULT_LIMITS.killGraceMs);
    expect(writableBytes).toBe(DEFAULT_LIMITS.maxFilesystemBytes);
  });
});

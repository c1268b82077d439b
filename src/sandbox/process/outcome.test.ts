import { describe, expect, it } from "vitest";
import { classifyEnd, deathSignal } from "./outcome.js";

const limits = { timeoutMs: 1000 };
const end = { exitCode: 0, signal: null, stoppedBy: null, stderr: "" } as const;

describe("classifyEnd", () => {
  it("reports nothing for a clean exit", () => {
    expect(classifyEnd(end, limits)).toBeUndefined();
  });

  it("lets a stop we caused win over the exit status", () => {
    expect(classifyEnd({ ...end, exitCode: null, stoppedBy: "TIMEOUT" }, limits)?.code).toBe("TIMEOUT");
    expect(classifyEnd({ ...end, exitCode: null, stoppedBy: "CANCELLED" }, limits)?.code).toBe("TIMEOUT");
    expect(classifyEnd({ ...end, exitCode: null, stoppedBy: "OUTPUT_LIMIT" }, limits)?.code).toBe("OUTPUT_LIMIT");
    expect(classifyEnd({ ...end, exitCode: null, stoppedBy: "FILESYSTEM_LIMIT" }, limits)?.code).toBe(
      "FILESYSTEM_LIMIT",
    );
  });

  it("reads 128+N statuses as signals (bwrap reports a guest's death that way)", () => {
    expect(deathSignal({ exitCode: 137, signal: null })).toBe(9);
    expect(deathSignal({ exitCode: null, signal: "SIGKILL" })).toBe(9);
    expect(deathSignal({ exitCode: 3, signal: null })).toBeNull();
    expect(classifyEnd({ ...end, exitCode: 137 }, limits)?.code).toBe("MEMORY_LIMIT");
    expect(classifyEnd({ ...end, exitCode: 153 }, limits)?.code).toBe("FILESYSTEM_LIMIT");
  });

  it("recognises interpreters' out-of-memory messages only on failure", () => {
    const messages = [
      "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
      'Traceback (most recent call last):\n  File "main.py", line 3\nMemoryError\n',
      "main.rb:1:in `*': failed to allocate memory (NoMemoryError)",
      "main.sh: xmalloc: cannot allocate 268435456 bytes",
      "/workspace/main.sh: xrealloc: cannot allocate 63963264 bytes",
    ];
    for (const stderr of messages)
      expect(classifyEnd({ ...end, exitCode: 1, stderr }, limits)?.code).toBe("MEMORY_LIMIT");
    expect(classifyEnd({ ...end, exitCode: 0, stderr: messages[1] as string }, limits)).toBeUndefined();
  });

  it("maps EFBIG to FILESYSTEM_LIMIT and other failures to NON_ZERO_EXIT", () => {
    expect(classifyEnd({ ...end, exitCode: 1, stderr: "OSError: [Errno 27] File too large" }, limits)?.code).toBe(
      "FILESYSTEM_LIMIT",
    );
    const out = classifyEnd({ ...end, exitCode: 3 }, limits);
    expect(out).toEqual({ code: "NON_ZERO_EXIT", message: "The code exited with status 3." });
  });
});

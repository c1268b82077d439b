import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { descendants, parseParentPid } from "./process-tree.js";

describe("parseParentPid", () => {
  it("reads the ppid even when the command name holds spaces and parentheses", () => {
    expect(parseParentPid("123 (a b) c) S 45 123 123 0 -1")).toBe(45);
    expect(parseParentPid("garbage")).toBeNull();
  });
});

describe("descendants", () => {
  it("finds children and grandchildren", async () => {
    const child = spawn("/bin/sh", ["-c", "sleep 30 & sleep 30"], { stdio: "ignore" });
    try {
      let found: number[] = [];
      for (let i = 0; i < 50 && found.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
        found = await descendants(child.pid as number);
      }
      expect(found.length).toBe(2);
    } finally {
      for (const pid of await descendants(child.pid as number)) process.kill(pid, "SIGKILL");
      child.kill("SIGKILL");
    }
  });
});

import { existsSync } from "node:fs";
import { expect, it } from "vitest";
import { runSecuritySuite } from "./wasm-suite.js";

runSecuritySuite("bash", { timeoutMs: 3_000, memoryLimitBytes: 64 * 1024 * 1024 }, (suite) => {
  it("sees only the variables passed, and no host tree", async () => {
    const result = await suite.run(
      'echo "$ONLY"; ls / | tr "\\n" " "; echo; test -e /etc/passwd && echo HOST || echo none',
    );
    expect(result.stdout.split("\n")[0]).toBe("this");
    expect(result.stdout).toContain("none");
  });

  it("keeps writes outside the workspace in memory, never on the host", async () => {
    const result = await suite.run("echo x > /etc/inline-sandbox-evil && cat /etc/inline-sandbox-evil");
    expect(result.stdout).toBe("x\n");
    expect(existsSync("/etc/inline-sandbox-evil")).toBe(false);
    const next = await suite.run("cat /etc/inline-sandbox-evil 2>/dev/null || echo gone");
    expect(next.stdout).toBe("gone\n");
  });

  it("refuses /dev/tcp", async () => {
    const result = await suite.run("echo x > /dev/tcp/127.0.0.1/80 && echo OPENED");
    expect(result.stdout).not.toContain("OPENED");
  });

  it("has one way out, curl through the host call, and without an effect handler it refuses everything", async () => {
    const result = await suite.run(
      'curl -sS http://127.0.0.1:1/; echo "exit $?"; curl -s http://169.254.169.254/; echo "exit $?"',
    );
    expect(result.stdout).toBe("exit 7\nexit 7\n");
    expect(result.stderr).toContain("EGRESS_DENIED");
  });
});

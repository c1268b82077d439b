import { expect, it } from "vitest";
import { runSecuritySuite } from "./wasm-suite.js";

runSecuritySuite("python", { timeoutMs: 3_000, memoryLimitBytes: 128 * 1024 * 1024 }, (suite) => {
  it("shows only the virtual tree and the variables passed", async () => {
    const result = await suite.run("import os\nprint(sorted(os.listdir('/')))\nprint(dict(os.environ))");
    expect(result.stdout).toBe("['tmp', 'workspace']\n{'ONLY': 'this'}\n");
  });

  it("runs no command and opens no socket", async () => {
    const result = await suite.run(
      "import os\ntry:\n    os.system('echo RAN')\nexcept Exception as e:\n    print(type(e).__name__)\nimport socket\ntry:\n    socket.socket().connect(('127.0.0.1', 80))\nexcept Exception as e:\n    print(type(e).__name__)",
    );
    expect(result.stdout).not.toContain("RAN");
    expect(result.stdout.trim().split("\n")).toHaveLength(2);
  });
});

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

  it("has one way out, the host call, and without an effect handler it refuses everything", async () => {
    const frame = JSON.stringify({
      method: "GET",
      url: "http://169.254.169.254/",
      headers: [],
      redirect: "follow",
      bodyLength: null,
    });
    const result = await suite.run(
      [
        "import os",
        "from sandbox import http",
        "try:",
        "    http.get('http://127.0.0.1:1/')",
        "    print('ESCAPED binding')",
        "except http.EgressError as e:",
        "    print('binding', e.code)",
        "fd = os.open('/dev/sandbox/http', os.O_RDWR)",
        `os.write(fd, ${JSON.stringify(frame)}.encode() + b"\\n")`,
        "print('raw', b'EGRESS_DENIED' in os.read(fd, 65536))",
        "os.close(fd)",
        "fd = os.open('/dev/sandbox/http', os.O_RDWR)",
        "os.write(fd, b'\\xff' * 1000 + b'\\n')",
        "print('garbage', b'EGRESS_INVALID_REQUEST' in os.read(fd, 65536))",
        "os.close(fd)",
        "for p in ['/dev/sandbox/../../etc/passwd', '/dev/sandbox/http/../x', '/dev/null', '/dev/sandbox/other']:",
        "    try:",
        "        open(p).read()",
        "        print('ESCAPED', p)",
        "    except OSError:",
        "        print('refused')",
      ].join("\n"),
    );
    expect(result.stdout).toBe("binding EGRESS_DENIED\nraw True\ngarbage True\nrefused\nrefused\nrefused\nrefused\n");
  });
});

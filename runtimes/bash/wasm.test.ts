/**
 * The bash WasmRuntime run in-process: what a script sees (stdin, args, env, files, cwd), what it
 * can use (pipes, text tools, hashes, gzip), and how exit statuses come back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./runner-harness.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness();
});

afterAll(async () => {
  await harness?.close();
});

describe("bash on wasm: basics", () => {
  it("prints hello world", async () => {
    const r = await harness.run('echo "hello world"');
    expect(r.stdout).toBe("hello world\n");
    expect(r.stderr).toBe("");
    expect(r.outcome.exitCode).toBe(0);
    expect(r.outcome.error).toBeUndefined();
  });

  it("copies stdin verbatim, including non-ASCII text", async () => {
    const stdin = "line one\nline two with ünïcode\n";
    const r = await harness.run("cat", { request: { stdin } });
    expect(r.stdout).toBe(stdin);
  });

  it("passes args as $1.. with $0 = /workspace/main.sh", async () => {
    const r = await harness.run('echo "$0"; echo "$#"; printf "<%s>\\n" "$@"', {
      request: { args: ["a", "b c", "--flag", "*"] },
    });
    expect(r.stdout).toBe("/workspace/main.sh\n4\n<a>\n<b c>\n<--flag>\n<*>\n");
  });

  it("runs the script as `bash FILE` does: a #! line dropped, $@ and $* joined, shift, env names bash cannot hold left out", async () => {
    const r = await harness.run(
      '#!/usr/bin/env bash\necho "line $LINENO: $*"\nshift\necho "$# [$1]" "${BAD-unset}"\n',
      {
        request: { args: ["x", "y z"], env: { "BAD-NAME": "v", OK: "1" } },
      },
    );
    expect(r.stdout).toBe("line 1: x y z\n1 [y z] unset\n");
    expect(r.outcome.exitCode).toBe(0);
  });

  it("sets exactly the request's env plus HOME, PATH and LANG", async () => {
    const env = { GREETING: "hi there", QUOTE: 'it\'s "quoted" $HOME `x`', HOME: "/workspace/home" };
    const r = await harness.run(
      'printf "%s|%s|%s|%s|%s\\n" "$GREETING" "$QUOTE" "$HOME" "$PATH" "$LANG"; printenv GREETING',
      {
        request: { env },
      },
    );
    expect(r.stdout).toBe(`hi there|${env.QUOTE}|/workspace/home|/usr/local/bin:/usr/bin:/bin|C.UTF-8\nhi there\n`);
  });

  it("runs in /workspace with the request's files and returns every workspace file", async () => {
    const r = await harness.run(
      [
        "pwd",
        "tr '[:lower:]' '[:upper:]' < input.txt > output.txt",
        "mkdir -p nested/deep && printf new > nested/deep/new.txt",
        "cat sub/data.bin | wc -c",
        "ln -s input.txt link.txt",
      ].join("\n"),
      {
        request: {
          files: [
            { path: "input.txt", content: utf8("hello files") },
            { path: "sub/data.bin", content: new Uint8Array([0, 255, 1, 254]) },
          ],
        },
      },
    );
    expect(r.stdout).toBe("/workspace\n4\n");
    expect(r.outcome.files.map((f) => f.path)).toEqual([
      "input.txt",
      "main.sh",
      "nested/deep/new.txt",
      "output.txt",
      "sub/data.bin",
    ]);
    expect(r.file("output.txt")).toBe("HELLO FILES");
    expect(r.file("nested/deep/new.txt")).toBe("new");
    expect(Array.from(r.outcome.files.find((f) => f.path === "sub/data.bin")?.content ?? [])).toEqual([0, 255, 1, 254]);
    expect(r.file("main.sh")).toContain("pwd");
  });

  it("reports exit statuses: 0, 3 as NON_ZERO_EXIT, and a failed expansion", async () => {
    const three = await harness.run("exit 3");
    expect(three.outcome.exitCode).toBe(3);
    expect(three.outcome.error?.code).toBe("NON_ZERO_EXIT");
    const boom = await harness.run(': "${UNSET_VARIABLE:?boom}"\necho unreachable');
    expect(boom.outcome.exitCode).toBe(1);
    expect(boom.stderr).toContain("boom");
    expect(boom.stdout).toBe("");
    const missing = await harness.run("no-such-command");
    expect(missing.outcome.exitCode).toBe(127);
  });
});

describe("bash on wasm: tools", () => {
  it("pipes through sort, awk, sed and grep", async () => {
    const r = await harness.run(
      "printf 'b 2\\na 1\\nc 3\\n' | sort | awk '{ s += $2; print $1 } END { print s }' | sed 's/a/A/' | grep -v c",
    );
    expect(r.stdout).toBe("A\nb\n6\n");
  });

  it("runs jq", async () => {
    const r = await harness.run(`echo '{"x":[3,1,2],"name":"n"}' | jq -c '{name, x: (.x | sort)}'`);
    expect(r.stdout).toBe('{"name":"n","x":[1,2,3]}\n');
  });

  it("computes sha256sum, sha1sum and md5sum", async () => {
    const r = await harness.run("printf abc | sha256sum; printf abc | sha1sum; printf abc | md5sum");
    expect(r.stdout).toBe(
      [
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -",
        "a9993e364706816aba3e25717850c26c9cd0d89d  -",
        "900150983cd24fb0d6963f7d28e17f72  -",
        "",
      ].join("\n"),
    );
  });

  it("round-trips gzip and gunzip, and produces real gzip bytes", async () => {
    const r = await harness.run(
      "seq 1 2000 > n.txt; gzip -c n.txt > n.txt.gz; gunzip -c n.txt.gz | tail -1; head -c 2 n.txt.gz | base64",
    );
    expect(r.stdout).toBe("2000\nH4s=\n");
    const gz = r.outcome.files.find((f) => f.path === "n.txt.gz")?.content;
    expect(gz).toBeDefined();
    const { gunzipSync } = await import("node:zlib");
    expect(
      gunzipSync(gz ?? new Uint8Array())
        .toString()
        .split("\n")[1999],
    ).toBe("2000");
  });

  it("reads /dev/urandom with different bytes each run", async () => {
    const a = await harness.run("head -c 16 /dev/urandom | base64");
    const b = await harness.run("head -c 16 /dev/urandom | base64");
    expect(a.stdout).toMatch(/^[A-Za-z0-9+/]{22}==\n$/);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it("sleeps on the host clock", async () => {
    const r = await harness.run("sleep 0.3; echo done");
    expect(r.stdout).toBe("done\n");
    expect(r.durationMs).toBeGreaterThanOrEqual(280);
  });

  it("answers 'not available in this sandbox' for other interpreters, sqlite, wget and tar/yq/xan", async () => {
    const commands = [
      "python3 -c 1",
      "python -c 1",
      "js-exec -c 1",
      "node -e 1",
      "sqlite3 :memory: 'select 1'",
      "wget http://127.0.0.1/",
      "tar -cf x.tar main.sh",
      "yq . x.yaml",
      "xan count x.csv",
      "echo '<p>x</p>' | html-to-markdown",
    ];
    for (const command of commands) {
      const r = await harness.run(command);
      expect(r.outcome.exitCode, command).toBe(127);
      expect(r.stderr, command).toMatch(/^bash: [a-z0-9-]+: not available in this sandbox\n$/);
    }
  });
});

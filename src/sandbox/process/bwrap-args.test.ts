import { describe, expect, it } from "vitest";
import { type BwrapPlan, buildBwrapArgs, encodeArgs, SANDBOX_UID } from "./bwrap-args.js";

const plan: BwrapPlan = {
  workspaceHostDir: "/tmp/inline-sandbox-ws-abc",
  systemMounts: [
    { kind: "ro-bind", path: "/usr/lib" },
    { kind: "symlink", path: "/lib", target: "usr/lib" },
  ],
  binaries: [
    { name: "python3", hostPath: "/usr/bin/python3.11", mount: { kind: "file" } },
    { name: "node", hostPath: "/opt/node/bin/node", mount: { kind: "prefix", prefix: "/opt/node" } },
  ],
  etcFiles: [{ hostPath: "/tmp/etc/passwd", sandboxPath: "/etc/passwd" }],
  tmpSizeBytes: 1024,
  env: { PATH: "/usr/bin:/bin", HOME: "/workspace" },
  command: ["/usr/bin/python3", "-B", "/workspace/main.py", "--", "x"],
};

/** The value following each occurrence of `flag` (pairs, or the first of a triple). */
function valuesAfter(args: readonly string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1] as string] : []));
}

function pairs(args: readonly string[], flag: string): [string, string][] {
  return args.flatMap((a, i) =>
    a === flag ? [[args[i + 1] as string, args[i + 2] as string] as [string, string]] : [],
  );
}

describe("buildBwrapArgs", () => {
  const { options, command } = buildBwrapArgs(plan);

  it("unshares every namespace, network included, as a non-root uid without nested user namespaces", () => {
    for (const flag of [
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      "--die-with-parent",
      "--new-session",
      "--as-pid-1",
      "--clearenv",
    ]) {
      expect(options).toContain(flag);
    }
    expect(options).not.toContain("--share-net");
    expect(valuesAfter(options, "--uid")).toEqual([String(SANDBOX_UID)]);
    expect(SANDBOX_UID).not.toBe(0);
  });

  it("binds only the planned host paths read-only, and the workspace read-write", () => {
    const roBinds = pairs(options, "--ro-bind");
    expect(roBinds).toEqual([
      ["/usr/lib", "/usr/lib"],
      ["/opt/node", "/opt/node"],
      ["/usr/bin/python3.11", "/usr/bin/python3"],
      ["/tmp/etc/passwd", "/etc/passwd"],
    ]);
    expect(pairs(options, "--bind")).toEqual([["/tmp/inline-sandbox-ws-abc", "/workspace"]]);
    expect(options).not.toContain("--dev-bind");
    const hostSources = roBinds.map(([src]) => src);
    for (const secret of ["/etc", "/root", "/home", "/work", "/var", "/"]) expect(hostSources).not.toContain(secret);
  });

  it("links prefix-installed binaries and /bin into the synthesized /usr/bin", () => {
    expect(pairs(options, "--symlink")).toEqual([
      ["usr/lib", "/lib"],
      ["/opt/node/bin/node", "/usr/bin/node"],
      ["usr/bin", "/bin"],
    ]);
  });

  it("caps /tmp and /dev/shm, makes / and /dev read-only, and starts in /workspace", () => {
    expect(valuesAfter(options, "--size")).toEqual(["1024", "1024"]);
    expect(valuesAfter(options, "--tmpfs")).toEqual(["/dev/shm", "/tmp"]);
    expect(valuesAfter(options, "--remount-ro")).toEqual(["/dev", "/"]);
    expect(valuesAfter(options, "--chdir")).toEqual(["/workspace"]);
    expect(options.indexOf("--remount-ro")).toBeGreaterThan(options.indexOf("--dev"));
  });

  it("sets exactly the given environment", () => {
    expect(pairs(options, "--setenv")).toEqual([
      ["PATH", "/usr/bin:/bin"],
      ["HOME", "/workspace"],
    ]);
  });

  it("keeps the command apart, after --, with its own -- untouched", () => {
    expect(command).toEqual(["--", ...plan.command]);
    expect(options).not.toContain("--");
  });

  it("rejects a relative command and etc files outside /etc", () => {
    expect(() => buildBwrapArgs({ ...plan, command: ["python3"] })).toThrow(RangeError);
    expect(() => buildBwrapArgs({ ...plan, etcFiles: [{ hostPath: "/x", sandboxPath: "/usr/x" }] })).toThrow(
      RangeError,
    );
  });
});

describe("encodeArgs", () => {
  it("NUL-terminates each argument and refuses embedded NULs", () => {
    expect(encodeArgs(["--a", "b c"]).toString("utf8")).toBe("--a\0b c\0");
    expect(() => encodeArgs(["a\0b"])).toThrow(RangeError);
  });
});

import { describe, expect, it } from "vitest";
import { buildSafeEnv } from "./safe-env.js";

describe("buildSafeEnv", () => {
  it("starts from PATH, HOME and LANG only, never the server's environment", () => {
    process.env.INLINE_SANDBOX_TEST_SECRET = "s3cret";
    const { env } = buildSafeEnv({ path: "/usr/bin:/bin", home: "/workspace", requested: {} });
    expect(env).toEqual({ PATH: "/usr/bin:/bin", HOME: "/workspace", LANG: "C.UTF-8" });
    delete process.env.INLINE_SANDBOX_TEST_SECRET;
  });

  it("adds what the request declared", () => {
    const { env, dropped } = buildSafeEnv({
      path: "/p",
      home: "/h",
      requested: { GREETING: "hi", LANG: "en_US.UTF-8" },
    });
    expect(env.GREETING).toBe("hi");
    expect(env.LANG).toBe("en_US.UTF-8");
    expect(dropped).toEqual([]);
  });

  it("strips loader and glibc knobs and invalid names or values", () => {
    const { env, dropped } = buildSafeEnv({
      path: "/p",
      home: "/h",
      requested: {
        LD_PRELOAD: "/x.so",
        LD_LIBRARY_PATH: "/x",
        GLIBC_TUNABLES: "x",
        GCONV_PATH: "/x",
        "BAD=NAME": "1",
        "": "1",
        "1ABC": "1",
        NUL: "a\0b",
        OK: "1",
      },
    });
    expect(Object.keys(env).sort()).toEqual(["HOME", "LANG", "OK", "PATH"]);
    expect(dropped.map((d) => d.name).sort()).toEqual(
      ["", "1ABC", "BAD=NAME", "GCONV_PATH", "GLIBC_TUNABLES", "LD_LIBRARY_PATH", "LD_PRELOAD", "NUL"].sort(),
    );
  });

  it("lets enforced entries win over the request", () => {
    const { env } = buildSafeEnv({
      path: "/p",
      home: "/h",
      requested: { NODE_OPTIONS: "--max-old-space-size=99999" },
      enforced: { NODE_OPTIONS: "--max-old-space-size=256" },
    });
    expect(env.NODE_OPTIONS).toBe("--max-old-space-size=256");
  });
});

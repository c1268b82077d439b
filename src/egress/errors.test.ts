import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EGRESS_ERRORS, EgressFailure, egressError } from "./errors.js";

function documentedCodes(): string[] {
  const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  const section = doc.split("\n## Effect errors\n")[1]?.split("\n## ")[0] ?? "";
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1] ?? "");
}

describe("egress error codes", () => {
  it("are exactly the ones docs/errors.md lists under Effect errors", () => {
    expect(documentedCodes().sort()).toEqual(Object.keys(EGRESS_ERRORS).sort());
  });

  it("carry a fixed message plus the host's reason", () => {
    expect(egressError("EGRESS_DENIED")).toEqual({ code: "EGRESS_DENIED", message: EGRESS_ERRORS.EGRESS_DENIED });
    const failure = new EgressFailure("EGRESS_TIMEOUT", "(10 ms)");
    expect(failure.error).toEqual({ code: "EGRESS_TIMEOUT", message: `${EGRESS_ERRORS.EGRESS_TIMEOUT} (10 ms)` });
  });
});

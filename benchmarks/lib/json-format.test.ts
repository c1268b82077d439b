import { describe, expect, it } from "vitest";
import { formatJson } from "./json-format.js";

describe("formatJson", () => {
  it("puts short arrays of primitives on one line and objects one key per line", () => {
    expect(formatJson({ a: [1, 2, 3], b: { c: "x" }, d: [], e: {} })).toBe(
      '{\n  "a": [1, 2, 3],\n  "b": {\n    "c": "x"\n  },\n  "d": [],\n  "e": {}\n}\n',
    );
  });

  it("breaks arrays that do not fit in 120 columns and arrays of objects", () => {
    const long = Array.from({ length: 30 }, (_, i) => `item-${i}`);
    expect(formatJson({ long }).split("\n")).toHaveLength(35);
    expect(formatJson([{ a: 1 }])).toBe('[\n  {\n    "a": 1\n  }\n]\n');
  });

  it("drops undefined members as JSON.stringify does and round-trips", () => {
    const value = { a: undefined, b: [1, null, "s"], c: { d: true } };
    expect(JSON.parse(formatJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });
});

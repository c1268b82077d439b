import { describe, expect, it } from "vitest";
import { GuestLimitError } from "../../../wasm/host/guest-limit.js";
import { allocateSharedOutput, readSharedOutput, SharedOutputSink } from "./shared-output.js";

describe("SharedOutputSink", () => {
  it("keeps what was written below the cap", () => {
    const buffer = allocateSharedOutput(16);
    const sink = new SharedOutputSink(buffer);
    sink.write("héllo ");
    sink.write(new Uint8Array([0x77, 0x6f]));
    expect(readSharedOutput(buffer)).toMatchObject({ text: "héllo wo", truncated: false });
    expect(sink.length).toBe(9);
  });

  it("stores exactly the cap and throws OUTPUT_LIMIT on the write that crosses it", () => {
    const buffer = allocateSharedOutput(10);
    const sink = new SharedOutputSink(buffer);
    sink.write("12345");
    expect(() => sink.write("67890abc")).toThrow(GuestLimitError);
    const out = readSharedOutput(buffer);
    expect(out.text).toBe("1234567890");
    expect(out.truncated).toBe(true);
    expect(() => sink.write("x")).toThrow(/output exceeded 10 bytes/);
  });

  it("is readable from another view of the same memory", () => {
    const buffer = allocateSharedOutput(4);
    new SharedOutputSink(buffer).write("ab");
    expect(readSharedOutput(buffer).bytes).toEqual(new Uint8Array([0x61, 0x62]));
  });
});

import { describe, expect, it } from "vitest";
import { GuestLimitError } from "../../../wasm/host/guest-limit.js";
import {
  allocateSharedOutput,
  claimSharedOutput,
  readSharedOutput,
  SharedOutputSink,
  sharedOutputCapacity,
} from "./shared-output.js";

describe("SharedOutputSink", () => {
  it("keeps what was written below the cap", () => {
    const buffer = claimSharedOutput(allocateSharedOutput(16), 1);
    const sink = new SharedOutputSink(buffer, 1);
    sink.write("héllo ");
    sink.write(new Uint8Array([0x77, 0x6f]));
    expect(readSharedOutput(buffer, 1)).toMatchObject({ text: "héllo wo", truncated: false });
    expect(sink.length).toBe(9);
    expect(sharedOutputCapacity(buffer)).toBe(16);
  });

  it("stores exactly the cap and throws OUTPUT_LIMIT on the write that crosses it", () => {
    const buffer = claimSharedOutput(allocateSharedOutput(10), 1);
    const sink = new SharedOutputSink(buffer, 1);
    sink.write("12345");
    expect(() => sink.write("67890abc")).toThrow(GuestLimitError);
    const out = readSharedOutput(buffer, 1);
    expect(out.text).toBe("1234567890");
    expect(out.truncated).toBe(true);
    expect(() => sink.write("x")).toThrow(/output exceeded 10 bytes/);
  });

  it("is readable from another view of the same memory", () => {
    const buffer = claimSharedOutput(allocateSharedOutput(4), 7);
    new SharedOutputSink(buffer, 7).write("ab");
    expect(readSharedOutput(buffer, 7).bytes).toEqual(new Uint8Array([0x61, 0x62]));
  });

  it("starts a reused buffer empty and untruncated: nothing of the previous run is read back", () => {
    const buffer = claimSharedOutput(allocateSharedOutput(8), 1);
    expect(() => new SharedOutputSink(buffer, 1).write("previous run")).toThrow(GuestLimitError);
    claimSharedOutput(buffer, 2);
    new SharedOutputSink(buffer, 2).write("ok");
    expect(readSharedOutput(buffer, 2)).toMatchObject({ text: "ok", truncated: false });
  });

  it("refuses writes from a sink of an earlier run once another run claimed the buffer", () => {
    const buffer = claimSharedOutput(allocateSharedOutput(16), 1);
    const stale = new SharedOutputSink(buffer, 1);
    claimSharedOutput(buffer, 2);
    expect(() => stale.write("late")).toThrow(/belongs to run 2, not 1/);
    expect(readSharedOutput(buffer, 2).text).toBe("");
    expect(() => readSharedOutput(buffer, 1)).toThrow(/belongs to run 2/);
  });

  it("compares run ids as int32, so ids past 2^31 still own their buffer", () => {
    const id = 2 ** 31 + 5;
    const buffer = claimSharedOutput(allocateSharedOutput(4), id);
    new SharedOutputSink(buffer, id).write("a");
    expect(readSharedOutput(buffer, id).text).toBe("a");
  });
});

import { describe, expect, it } from "vitest";
import { buildEvent, newEventId } from "./event.js";

describe("audit events", () => {
  it("gives every event a distinct 96-bit id, across refills of the random pool", () => {
    const ids = Array.from({ length: 1000 }, () => newEventId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^evt_[A-Za-z0-9_-]{16}$/);
  });

  it("keeps the reserved keys over same-named fields", () => {
    const event = buildEvent(
      {
        id: "evt_a",
        executionId: "exec_a",
        requestId: "req_a",
        type: "received",
        time: 0,
        fields: { seq: 99, id: "x", n: 1 },
      },
      3,
    );
    expect(event).toEqual({
      v: 1,
      id: "evt_a",
      seq: 3,
      time: "1970-01-01T00:00:00.000Z",
      requestId: "req_a",
      executionId: "exec_a",
      type: "received",
      n: 1,
    });
  });
});

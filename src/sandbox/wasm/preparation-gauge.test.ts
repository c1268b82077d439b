import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import type { Language } from "../types.js";
import type { ActiveRun } from "./pool-slot.js";
import { PreparationGauge } from "./preparation-gauge.js";
import { pickIdleSlot } from "./worker-pool.js";

describe("PreparationGauge", () => {
  it("is busy while any counted preparation has not ended", () => {
    const gauge = new PreparationGauge();
    expect(gauge.busy).toBe(false);
    gauge.begin();
    gauge.begin();
    gauge.end();
    expect(gauge.busy).toBe(true);
    gauge.end();
    expect(gauge.busy).toBe(false);
  });

  it("shows another thread's count through its shared buffer", async () => {
    const gauge = new PreparationGauge();
    const worker = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
       const cells = new Int32Array(workerData, 0, 1);
       Atomics.add(cells, 0, 1);
       parentPort.postMessage("begun");`,
      { eval: true, workerData: gauge.shared },
    );
    await new Promise((resolve) => worker.once("message", resolve));
    await worker.terminate();
    expect(gauge.busy).toBe(true);
  });
});

interface FakeSlot {
  readonly name: string;
  ready: boolean;
  current?: ActiveRun;
  readonly building: Set<Language>;
  readonly languages: Set<Language>;
  idleSince: number;
  readonly preparing: PreparationGauge;
}

function slot(
  name: string,
  idleSince: number,
  options: { preparing?: boolean; languages?: Language[] } = {},
): FakeSlot {
  const preparing = new PreparationGauge();
  if (options.preparing) preparing.begin();
  return {
    name,
    ready: true,
    building: new Set(),
    languages: new Set(options.languages ?? ["ruby", "python"]),
    idleSince,
    preparing,
  };
}

describe("pickIdleSlot", () => {
  it("takes the idle worker that finished most recently", () => {
    expect(pickIdleSlot([slot("a", 10), slot("b", 20)], "ruby")?.name).toBe("b");
  });

  it("takes an idle worker with nothing counted to prepare over a more recent one still preparing", () => {
    expect(pickIdleSlot([slot("a", 10), slot("b", 20, { preparing: true })], "ruby")?.name).toBe("a");
  });

  it("still takes a preparing worker when every idle one is preparing (the run waits for it)", () => {
    const slots = [slot("a", 10, { preparing: true }), slot("b", 20, { preparing: true })];
    expect(pickIdleSlot(slots, "ruby")?.name).toBe("b");
  });

  it("never takes a busy, unready or building worker, or one without the language", () => {
    const busy = { ...slot("busy", 50), current: {} as ActiveRun };
    const unready = { ...slot("unready", 40), ready: false };
    const building = slot("building", 30);
    building.building.add("bash");
    const other = slot("other", 60, { languages: ["javascript"] });
    expect(pickIdleSlot([busy, unready, building, other], "ruby")).toBeUndefined();
    expect(pickIdleSlot([busy, unready, building, other, slot("ok", 1, { preparing: true })], "ruby")?.name).toBe("ok");
  });
});

import { describe, expect, it } from "vitest";
import { AuditLog } from "../audit/audit-log.js";
import { limitPolicy, loadConfig } from "../config.js";
import { silentLogger } from "../logger.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { closeInterrupted } from "./recovery.js";

describe("closing executions a dead process left running", () => {
  it("closes only those untouched for longer than the longest run plus the grace, once, with an event", async () => {
    const limits = limitPolicy(loadConfig({}));
    const store = SqliteStore.open({ path: ":memory:", logger: silentLogger() });
    const audit = new AuditLog(store);
    const base = { owner: "o", status: "running" as const, kind: "adhoc" as const, dryRun: false, requestId: "req" };
    await store.createExecution({ ...base, id: "exec_old", createdAt: 1_000 });
    await store.createExecution({ ...base, id: "exec_recent", createdAt: 500_000 });
    const seen: string[] = [];
    audit.subscribe("exec_old", (e) => seen.push(e.type));

    const now = 1_000 + limits.maxima.timeoutMs + limits.maxima.killGraceMs + 60_000 + 1;
    expect(await closeInterrupted(store, audit, limits, now, 60_000)).toBe(1);
    expect(await closeInterrupted(store, audit, limits, now, 60_000)).toBe(0);
    expect(await store.getExecution("exec_old")).toMatchObject({ status: "completed", error: { code: "INTERNAL" } });
    expect((await store.getExecution("exec_recent"))?.status).toBe("running");
    expect((await store.listEvents("exec_old")).map((e) => e.type)).toEqual(["completed"]);
    expect(seen).toEqual(["completed"]);
  });
});

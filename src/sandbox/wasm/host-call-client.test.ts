import { MessageChannel, Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { GuestLimitError } from "../../../wasm/host/guest-limit.js";
import type { GuestHttpRequest } from "../host-call.js";
import { HostCallClient } from "./host-call-client.js";
import { CANCEL_REQUESTED, CONTROL_CANCEL, CONTROL_WORDS } from "./protocol.js";

/**
 * The host's side runs in another thread (the client blocks this one): a plain-JS worker that answers
 * each call the way `script` says, using the real protocol (post the answer, bump the counter, notify).
 */
function host(script: string) {
  const channel = new MessageChannel();
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  const source = `
    const { workerData } = require("node:worker_threads");
    const { port, control } = workerData;
    const words = new Int32Array(control);
    const answer = (message, reply, deadline) => {
      port.postMessage({ runId: message.runId, seq: message.seq, reply, deadline });
      Atomics.add(words, 1, 1);
      Atomics.notify(words, 1);
    };
    port.on("message", (message) => { ${script} });
  `;
  const worker = new Worker(source, {
    eval: true,
    workerData: { port: channel.port2, control: control.buffer },
    transferList: [channel.port2],
  });
  return { worker, port: channel.port1, control };
}

const request = (extra: Partial<GuestHttpRequest> = {}): GuestHttpRequest => ({
  method: "GET",
  url: "https://api.example.com/x",
  headers: [["accept", "text/plain"]],
  redirect: "follow",
  ...extra,
});

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

describe("HostCallClient", () => {
  it("blocks until the host answers, hands over the body and the moved deadline", () => {
    const h = host(`
      const body = new TextEncoder().encode(message.request.method + " " + message.request.url + " " + message.request.headers[0][1] + " " + (message.request.body ? message.request.body.length : 0));
      setTimeout(() => answer(message, { ok: true, status: 201, statusText: "Created", headers: [["x", "1"]], body, url: message.request.url, redirected: false }, 12345), 30);
    `);
    workers.push(h.worker);
    let deadline = 0;
    const client = new HostCallClient({
      port: h.port,
      control: h.control,
      runId: 7,
      onDeadline: (d) => (deadline = d),
    });
    const started = performance.now();
    const reply = client.http(request({ method: "POST", body: new Uint8Array([1, 2, 3]) }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    expect(reply.status).toBe(201);
    expect(new TextDecoder().decode(reply.body)).toBe("POST https://api.example.com/x text/plain 3");
    expect(deadline).toBe(12345);
  });

  it("ignores an answer meant for another run or call", () => {
    const h = host(`
      answer({ runId: message.runId + 1, seq: message.seq }, { ok: false, code: "WRONG_RUN", message: "" }, 1);
      answer({ runId: message.runId, seq: message.seq + 5 }, { ok: false, code: "WRONG_SEQ", message: "" }, 1);
      setTimeout(() => answer(message, { ok: false, code: "EGRESS_DENIED", message: "no" }, 2), 20);
    `);
    workers.push(h.worker);
    const client = new HostCallClient({ port: h.port, control: h.control, runId: 1, onDeadline: () => {} });
    expect(client.http(request())).toEqual({ ok: false, code: "EGRESS_DENIED", message: "no" });
    // The next call is answered by its own answer, not a leftover.
    expect(client.http(request())).toEqual({ ok: false, code: "EGRESS_DENIED", message: "no" });
  });

  it("ends the wait with TIMEOUT when the host cancels the run", () => {
    const h = host(`
      setTimeout(() => { Atomics.store(words, 0, ${CANCEL_REQUESTED}); Atomics.notify(words, 1); }, 40);
    `);
    workers.push(h.worker);
    const client = new HostCallClient({ port: h.port, control: h.control, runId: 1, onDeadline: () => {} });
    expect(() => client.http(request())).toThrow(GuestLimitError);
    expect(Atomics.load(h.control, CONTROL_CANCEL)).toBe(CANCEL_REQUESTED);
  });

  it("refuses malformed requests without calling the host", async () => {
    const h = host(`Atomics.store(words, 0, ${CANCEL_REQUESTED});`);
    workers.push(h.worker);
    const client = new HostCallClient({ port: h.port, control: h.control, runId: 1, onDeadline: () => {} });
    const bad: unknown[] = [
      request({ url: 5 as unknown as string }),
      request({ headers: [["a"]] as unknown as Array<[string, string]> }),
      request({ headers: [["a", 1]] as unknown as Array<[string, string]> }),
      request({ body: "text" as unknown as Uint8Array }),
      request({ body: new Uint8Array(8 * 1024 * 1024 + 1) }),
      request({ redirect: "error" as unknown as "follow" }),
      request({ url: "x".repeat(9000) }),
    ];
    for (const r of bad) {
      const reply = client.http(r as GuestHttpRequest);
      expect(reply).toMatchObject({ ok: false, code: "EGRESS_INVALID_REQUEST" });
    }
    // The host never saw a call: it would have set the cancel flag.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(Atomics.load(h.control, CONTROL_CANCEL)).toBe(0);
  });
});

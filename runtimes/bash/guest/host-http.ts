/**
 * Inside QuickJS: the guest's side of the one host call (src/sandbox/host-call.ts). The guest never
 * calls out. A command (curl) queues a request and awaits its promise; the host's pump sees the
 * driver's state turn to "http", reads the request (`request()` JSON + `body()` bytes), calls
 * `RunContext.http` and answers with `reply(json, body)`, which resolves the promise. The queue is
 * empty at snapshot time and every run starts from the snapshot, so nothing survives a run.
 */
import type { GuestHeaderList, GuestHttpReply } from "../../../src/sandbox/host-call.js";

export interface HttpCall {
  readonly method: string;
  readonly url: string;
  readonly headers: GuestHeaderList;
  readonly body: Uint8Array | undefined;
  readonly redirect: "follow" | "manual";
}

interface Pending {
  readonly call: HttpCall;
  readonly resolve: (reply: GuestHttpReply) => void;
}

const queue: Pending[] = [];

/** Ask the host; resolves once the host answered (refusals included: they are data). */
export function requestHttp(call: HttpCall): Promise<GuestHttpReply> {
  return new Promise((resolve) => {
    queue.push({ call, resolve });
  });
}

function head(): Pending {
  const first = queue[0];
  if (first === undefined) throw new Error("bash guest: no HTTP request is waiting");
  return first;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** The host's handles (called by the host through `__sandbox.bash.http*`). */
export const httpChannel = Object.freeze({
  pending(): boolean {
    return queue.length > 0;
  },
  /** The first waiting request without its body, as JSON; `hasBody` says whether body() has one. */
  request(): string {
    const { method, url, headers, body, redirect } = head().call;
    return JSON.stringify({ method, url, headers, redirect, hasBody: body !== undefined });
  },
  body(): ArrayBuffer {
    return toArrayBuffer(head().call.body ?? new Uint8Array(0));
  },
  /** Answer the first waiting request. `json` is the reply without its body (see host-call.ts). */
  reply(json: string, body: ArrayBuffer): void {
    const pending = queue.shift();
    if (pending === undefined) throw new Error("bash guest: no HTTP request is waiting");
    const meta = JSON.parse(json) as Record<string, unknown>;
    if (meta.ok === true) {
      pending.resolve({
        ok: true,
        status: Number(meta.status),
        statusText: String(meta.statusText ?? ""),
        headers: (meta.headers ?? []) as GuestHeaderList,
        url: String(meta.url ?? ""),
        redirected: meta.redirected === true,
        body: new Uint8Array(body),
      });
    } else {
      pending.resolve({ ok: false, code: String(meta.code), message: String(meta.message ?? "") });
    }
  },
});

/**
 * The only way a JavaScript guest reaches the host: a handful of functions we wrote, installed as
 * `globalThis.__host` for the prelude to capture (and delete) before guest code runs. Each function
 * takes and returns primitives or ArrayBuffers copied across the boundary; no host object, error or
 * stack ever enters the guest. Host failures become plain guest values with a message we wrote.
 */
import { randomBytes } from "node:crypto";
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { type GuestHttpReply, type GuestHttpRequest, NO_NETWORK_REPLY } from "../../src/sandbox/host-call.js";
import { isGuestLimitError } from "../../wasm/host/guest-limit.js";
import { httpCall } from "./http-bridge.js";
import { FETCH_PRELUDE_SOURCE } from "./prelude-fetch.js";
import { FsError, type VirtualFs } from "./virtual-fs.js";

export interface BridgeState {
  readonly fs: VirtualFs | undefined;
  readonly stdin: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  write(fd: 1 | 2, text: string): void;
  /** The execution's one way out: an HTTP request answered by the host (RunContext.http). */
  http(request: GuestHttpRequest): GuestHttpReply;
  /** A host limit was hit inside a bridge call: the runner stops the guest at the next interrupt check. */
  onLimit(error: unknown): void;
  onExit(code: number): void;
}

/**
 * The host side of one QuickJS instance: the execution it currently serves (none while the instance
 * is prepared ahead of a request) and the timer hooks its prelude registered.
 */
export interface HostBridge {
  readonly engineVersion: string;
  state: BridgeState | undefined;
  timerNext?: QuickJSHandle;
  timerFire?: QuickJSHandle;
}

/** What the bridge answers before an execution starts: nothing, and no filesystem. */
const NOT_STARTED: BridgeState = Object.freeze({
  fs: undefined,
  stdin: "",
  argv: [],
  env: {},
  write() {},
  http: () => NO_NETWORK_REPLY,
  onLimit() {},
  onExit() {},
});

const MAX_RANDOM_BYTES = 65_536;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function installHostBridge(context: QuickJSContext, bridge: HostBridge): void {
  const current = (): BridgeState => bridge.state ?? NOT_STARTED;
  const host = context.newObject();
  // A host exception thrown out of a bridge function would reach the guest as an error carrying
  // host text: every call is fenced, and a failure stops the guest instead (onLimit).
  const fn = (name: string, impl: (...args: QuickJSHandle[]) => QuickJSHandle | undefined) => {
    const fenced = (...args: QuickJSHandle[]): QuickJSHandle | undefined => {
      try {
        return impl(...args);
      } catch (error) {
        current().onLimit(error);
        return undefined;
      }
    };
    context.newFunction(name, fenced).consume((f) => context.setProp(host, name, f));
  };
  const str = (h: QuickJSHandle | undefined): string => (h === undefined ? "" : String(context.getString(h)));
  /** An ArrayBuffer's bytes; anything else (only a guest tampering with its prelude passes that) is empty. */
  const bytes = (h: QuickJSHandle | undefined): Uint8Array => {
    if (h === undefined || context.typeof(h) !== "object") return new Uint8Array(0);
    try {
      return context.getArrayBuffer(h).consume((view) => view.value.slice());
    } catch {
      return new Uint8Array(0);
    }
  };
  const buffer = (data: Uint8Array) =>
    context.newArrayBuffer(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));

  fn("write", (fd, text) => {
    const target = context.getNumber(fd ?? context.undefined) === 2 ? 2 : 1;
    guarded(current(), () => current().write(target, str(text)));
    return undefined;
  });
  fn("utf8Encode", (text) => buffer(utf8.encode(str(text))));
  // As a JSON string literal: newString passes a C string, which would end the text at its first NUL.
  fn("utf8Decode", (data) => context.newString(JSON.stringify(utf8Decoder.decode(bytes(data)))));
  fn("envJson", () => context.newString(JSON.stringify(current().env)));
  fn("argvJson", () => context.newString(JSON.stringify(current().argv)));
  fn("stdin", () => context.newString(current().stdin));
  fn("engineVersion", () => context.newString(bridge.engineVersion));
  fn("now", () => context.newNumber(performance.now()));
  fn("randomSeed", () => {
    const words = new Uint32Array(randomBytes(16).buffer);
    if (words.every((w) => w === 0)) words[0] = 1;
    return context.newString(JSON.stringify([...words]));
  });
  fn("randomBytes", (n) => {
    const count = Math.max(0, Math.min(MAX_RANDOM_BYTES, Math.trunc(context.getNumber(n ?? context.undefined))));
    return buffer(randomBytes(count));
  });
  fn("exit", (code) => {
    current().onExit(Math.trunc(context.getNumber(code ?? context.undefined)) | 0);
    return undefined;
  });
  fn("setTimerHooks", (next, fire) => {
    if (next && fire && !bridge.timerNext) {
      bridge.timerNext = next.dup();
      bridge.timerFire = fire.dup();
    }
    return undefined;
  });
  fn("http", (...args) => httpCall(context, current(), args));
  // The fetch polyfill's source, asked for by the prelude the first time the guest touches fetch (a
  // constant we wrote; kept out of the prelude because lexing it costs every instance ~2 ms).
  fn("fetchSource", () => context.newString(FETCH_PRELUDE_SOURCE));
  fn("fs", (op, a, b, c) => fsCall(context, current(), str(op), a, b, c, { str, bytes, buffer }));

  context.setProp(context.global, "__host", host);
  host.dispose();
}

interface Codec {
  str(h: QuickJSHandle | undefined): string;
  bytes(h: QuickJSHandle | undefined): Uint8Array;
  buffer(data: Uint8Array): QuickJSHandle;
}

function fsCall(
  context: QuickJSContext,
  state: BridgeState,
  op: string,
  a: QuickJSHandle | undefined,
  b: QuickJSHandle | undefined,
  c: QuickJSHandle | undefined,
  codec: Codec,
): QuickJSHandle | undefined {
  const flag = (h: QuickJSHandle | undefined) => h !== undefined && Boolean(context.dump(h));
  try {
    const fs = state.fs;
    if (!fs) return fsError(context, "EINVAL", "no execution is running");
    switch (op) {
      case "read":
        return codec.buffer(fs.readFile(codec.str(a)));
      case "write":
        fs.writeFile(codec.str(a), codec.bytes(b), flag(c));
        return undefined;
      case "stat": {
        const s = fs.stat(codec.str(a));
        const obj = context.newObject();
        context.newString(s.kind).consume((h) => context.setProp(obj, "kind", h));
        context.newNumber(s.size).consume((h) => context.setProp(obj, "size", h));
        return obj;
      }
      case "readdir": {
        const array = context.newArray();
        fs.readdir(codec.str(a)).forEach((name, i) => {
          context.newString(name).consume((h) => context.setProp(array, i, h));
        });
        return array;
      }
      case "mkdir":
        fs.mkdir(codec.str(a), flag(b));
        return undefined;
      case "rm":
        fs.remove(codec.str(a), { recursive: flag(b), directory: flag(c) });
        return undefined;
      case "rename":
        fs.rename(codec.str(a), codec.str(b));
        return undefined;
      default:
        return fsError(context, "EINVAL", `unsupported operation ${op}`);
    }
  } catch (error) {
    if (error instanceof FsError) return fsError(context, error.errno, error.message);
    state.onLimit(error);
    return fsError(context, "EIO", isGuestLimitError(error) ? error.message : "I/O error");
  }
}

function fsError(context: QuickJSContext, errno: string, message: string): QuickJSHandle {
  const obj = context.newObject();
  context.newString(errno).consume((h) => context.setProp(obj, "errno", h));
  context.newString(message).consume((h) => context.setProp(obj, "message", h));
  return obj;
}

function guarded(state: BridgeState, action: () => void): void {
  try {
    action();
  } catch (error) {
    state.onLimit(error);
  }
}

/**
 * The only way a JavaScript guest reaches the host: a handful of functions we wrote, installed as
 * `globalThis.__host` for the prelude to capture (and delete) before guest code runs. Each function
 * takes and returns primitives or ArrayBuffers copied across the boundary; no host object, error or
 * stack ever enters the guest. Host failures become plain guest values with a message we wrote.
 */
import { randomBytes, randomFillSync } from "node:crypto";
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
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
 * is prepared ahead of a request) and the hooks its prelude registered (timers, process.exitCode).
 */
export interface HostBridge {
  readonly engineVersion: string;
  state: BridgeState | undefined;
  hooks?: PreludeHooks;
}

/** Prelude functions the host calls: the timer queue's next due time and firing, the exit code. */
export interface PreludeHooks {
  readonly timerNext: QuickJSHandle;
  readonly timerFire: QuickJSHandle;
  readonly exitCode: QuickJSHandle;
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

/** A bridge function as quickjs-emscripten calls it: guest arguments in, a new handle (or nothing) out. */
type BridgeFunction = (...args: QuickJSHandle[]) => QuickJSHandle | undefined;

/**
 * The id quickjs-emscripten gives the first host function a runtime registers (its HostRefMap
 * starts at INT32_MIN); the bridge's functions are the only ones we register, so they hold
 * `FIRST_HOST_REF_ID + i` in installation order. Both install and rebind check this.
 */
const FIRST_HOST_REF_ID = -2147483648;

/**
 * Creates the bridge's functions on a new context and sets them as `globalThis.__host` (for the
 * prelude to capture). Returns the host-reference ids the functions were registered under, which a
 * clone of this instance must reproduce (rebindHostBridge).
 */
export function installHostBridge(runtime: QuickJSRuntime, context: QuickJSContext, bridge: HostBridge): number[] {
  const host = context.newObject();
  const functions = bridgeFunctions(context, bridge);
  const ids: number[] = [];
  for (const [name, impl] of functions) {
    context.newFunction(name, impl).consume((f) => context.setProp(host, name, f));
    const id = FIRST_HOST_REF_ID + ids.length;
    if (!registered(runtime, id, impl)) throw new Error("javascript runtime: unexpected host function ids");
    ids.push(id);
  }
  context.setProp(context.global, "__host", host);
  host.dispose();
  return ids;
}

/**
 * The host side of the bridge for a clone: its engine memory already holds the seed's `__host`
 * functions (captured by the prelude), which name their host implementation by id. This registers
 * the clone's implementations (bound to the clone's context and bridge) under exactly those ids, in
 * the same order, and creates nothing inside the engine. A mismatch fails: a guest call must never
 * reach a function other than the one the seed installed under that name.
 */
export function rebindHostBridge(
  runtime: QuickJSRuntime,
  context: QuickJSContext,
  bridge: HostBridge,
  ids: readonly number[],
): void {
  const functions = bridgeFunctions(context, bridge);
  if (functions.length !== ids.length) throw new Error("javascript runtime: host function count mismatch");
  functions.forEach(([, impl], i) => {
    if (runtime.hostRefs.put(impl) !== ids[i]) throw new Error("javascript runtime: host function id mismatch");
  });
}

function registered(runtime: QuickJSRuntime, id: number, impl: BridgeFunction): boolean {
  try {
    return runtime.hostRefs.get(id as Parameters<QuickJSRuntime["hostRefs"]["get"]>[0]) === impl;
  } catch {
    return false;
  }
}

/** The bridge's functions, in installation order (the order fixes their ids; append new ones at the end). */
function bridgeFunctions(context: QuickJSContext, bridge: HostBridge): [string, BridgeFunction][] {
  const current = (): BridgeState => bridge.state ?? NOT_STARTED;
  const functions: [string, BridgeFunction][] = [];
  // A host exception thrown out of a bridge function would reach the guest as an error carrying
  // host text: every call is fenced, and a failure stops the guest instead (onLimit).
  const fn = (name: string, impl: BridgeFunction) => {
    const fenced = (...args: QuickJSHandle[]): QuickJSHandle | undefined => {
      try {
        return impl(...args);
      } catch (error) {
        current().onLimit(error);
        return undefined;
      }
    };
    functions.push([name, fenced]);
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
  // Everything the prelude's start() reads, in one call: env, argv and a fresh Math.random seed.
  fn("startJson", () => {
    const { env, argv } = current();
    return context.newString(JSON.stringify({ env, argv, seed: randomSeed() }));
  });
  fn("stdin", () => context.newString(current().stdin));
  fn("engineVersion", () => context.newString(bridge.engineVersion));
  fn("now", () => context.newNumber(performance.now()));
  fn("randomBytes", (n) => {
    const count = Math.max(0, Math.min(MAX_RANDOM_BYTES, Math.trunc(context.getNumber(n ?? context.undefined))));
    return buffer(randomBytes(count));
  });
  fn("exit", (code) => {
    current().onExit(Math.trunc(context.getNumber(code ?? context.undefined)) | 0);
    return undefined;
  });
  fn("setHooks", (timerNext, timerFire, exitCode) => {
    if (timerNext && timerFire && exitCode && !bridge.hooks) {
      bridge.hooks = { timerNext: timerNext.dup(), timerFire: timerFire.dup(), exitCode: exitCode.dup() };
    }
    return undefined;
  });
  fn("http", (...args) => httpCall(context, current(), args));
  // The fetch polyfill's source, asked for by the prelude the first time the guest touches fetch (a
  // constant we wrote; kept out of the prelude because lexing it costs every instance ~2 ms).
  fn("fetchSource", () => context.newString(FETCH_PRELUDE_SOURCE));
  fn("fs", (op, a, b, c) => fsCall(context, current(), str(op), a, b, c, { str, bytes, buffer }));

  return functions;
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

/** Host randomness drawn ahead in blocks; every word is handed out once. */
const seedPool = new Uint32Array(1024);
let seedNext = seedPool.length;

/** Four fresh random words (xoshiro128**'s state: never all zero). */
function randomSeed(): number[] {
  if (seedNext + 4 > seedPool.length) {
    randomFillSync(seedPool);
    seedNext = 0;
  }
  const words = Array.from(seedPool.subarray(seedNext, seedNext + 4));
  seedPool.fill(0, seedNext, seedNext + 4);
  seedNext += 4;
  if (!words.some((w) => w !== 0)) words[0] = 1;
  return words;
}

function guarded(state: BridgeState, action: () => void): void {
  try {
    action();
  } catch (error) {
    state.onLimit(error);
  }
}

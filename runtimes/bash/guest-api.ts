/**
 * Host-side handles on the guest driver (guest/driver.ts) and the shims' `__sandbox` hooks.
 * The handles are taken once, before the memory snapshot, so they stay valid after every restore
 * (the JSValue slots they point to are part of the snapshot) and are never disposed per run.
 * Every per-call handle (arguments, results) is disposed before the call returns.
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import type { GuestState, GuestSummary } from "./guest/protocol.js";

/** A QuickJS exception that escaped a call into the guest (interrupts, out of memory, driver bugs). */
export class GuestException extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = "GuestException";
  }

  get outOfMemory(): boolean {
    return /out of memory/i.test(this.message);
  }
}

const FUNCTIONS = {
  start: "__sandbox.bash.start",
  rehearse: "__sandbox.bash.rehearse",
  endRehearsal: "__sandbox.bash.endRehearsal",
  state: "__sandbox.bash.state",
  stdout: "__sandbox.bash.stdout",
  stderr: "__sandbox.bash.stderr",
  summary: "__sandbox.bash.summary",
  file: "__sandbox.bash.file",
  httpRequest: "__sandbox.bash.httpRequest",
  httpBody: "__sandbox.bash.httpBody",
  httpReply: "__sandbox.bash.httpReply",
  reseed: "__sandbox.reseed",
  nextTimer: "__sandbox.timers.nextDue",
  runTimers: "__sandbox.timers.runDue",
} as const;

type FunctionName = keyof typeof FUNCTIONS;

export class GuestApi {
  private constructor(
    private readonly context: QuickJSContext,
    private readonly fns: Readonly<Record<FunctionName, QuickJSHandle>>,
  ) {}

  /** Resolve the guest functions (call after the shims and the bundle were evaluated). */
  static bind(context: QuickJSContext): GuestApi {
    const fns = {} as Record<FunctionName, QuickJSHandle>;
    for (const [name, path] of Object.entries(FUNCTIONS) as Array<[FunctionName, string]>) {
      const result = context.evalCode(path, `bind-${name}.js`);
      if (result.error) {
        const error = toException(context, result.error);
        throw new Error(`bash runtime: guest function ${path} is missing: ${error.message}`);
      }
      if (context.typeof(result.value) !== "function") {
        result.value.dispose();
        throw new Error(`bash runtime: ${path} is not a function`);
      }
      fns[name] = result.value;
    }
    // quickjs-emscripten creates these handles lazily; creating them now puts them in the snapshot.
    void context.undefined;
    void context.null;
    void context.true;
    void context.false;
    void context.global;
    return new GuestApi(context, fns);
  }

  /**
   * Start the run. The arguments are copied into the guest heap first, then `beforeCall` runs (the
   * caller arms its memory cap there: quickjs-emscripten writes argument bytes through a malloc
   * result it does not check, so that copy must never meet a refused allocation).
   */
  start(requestJson: string, contents: readonly Uint8Array[], beforeCall: () => void): void {
    const args = [
      this.context.newString(requestJson),
      ...contents.map((c) => this.context.newArrayBuffer(toArrayBuffer(c))),
    ];
    try {
      beforeCall();
    } catch (error) {
      for (const arg of args) arg.dispose();
      throw error;
    }
    this.call("start", args).dispose();
  }

  /** The boot's rehearsal (driver.ts): starts `requestJson`'s script; drive until "settled", then endRehearsal. */
  rehearse(requestJson: string): void {
    this.call("rehearse", [this.context.newString(requestJson)]).dispose();
  }

  /** Back to "idle" after the rehearsal; throws (GuestException) when the rehearsal failed. */
  endRehearsal(): void {
    this.call("endRehearsal", []).dispose();
  }

  state(): GuestState {
    return this.withResult(this.call("state", []), (h) => this.context.getString(h) as GuestState);
  }

  reseed(words: Uint32Array): void {
    this.call(
      "reseed",
      Array.from(words, (w) => this.context.newNumber(w)),
    ).dispose();
  }

  nextTimer(): number {
    return this.withResult(this.call("nextTimer", []), (h) => this.context.getNumber(h));
  }

  runTimers(now: number, max: number): number {
    const result = this.call("runTimers", [this.context.newNumber(now), this.context.newNumber(max)]);
    return this.withResult(result, (h) => this.context.getNumber(h));
  }

  stdout(): Uint8Array {
    return this.bytes(this.call("stdout", []));
  }

  stderr(): Uint8Array {
    return this.bytes(this.call("stderr", []));
  }

  summary(): GuestSummary {
    return this.withResult(this.call("summary", []), (h) => JSON.parse(this.context.getString(h)) as GuestSummary);
  }

  file(index: number): Uint8Array {
    return this.bytes(this.call("file", [this.context.newNumber(index)]));
  }

  /** The HTTP request a command is waiting on (state "http"): JSON without the body. */
  httpRequest(): string {
    return this.withResult(this.call("httpRequest", []), (h) => this.context.getString(h));
  }

  httpBody(): Uint8Array {
    return this.bytes(this.call("httpBody", []));
  }

  /** Answer the waiting request; the command's promise resolves on the next job. */
  httpReply(json: string, body: Uint8Array): void {
    this.call("httpReply", [this.context.newString(json), this.context.newArrayBuffer(toArrayBuffer(body))]).dispose();
  }

  private bytes(handle: QuickJSHandle): Uint8Array {
    return this.withResult(handle, (h) => {
      const view = this.context.getArrayBuffer(h);
      try {
        return view.value.slice();
      } finally {
        view.dispose();
      }
    });
  }

  private withResult<T>(handle: QuickJSHandle, read: (h: QuickJSHandle) => T): T {
    try {
      return read(handle);
    } finally {
      handle.dispose();
    }
  }

  /** Call a guest function; the argument handles are always disposed. */
  private call(name: FunctionName, args: QuickJSHandle[]): QuickJSHandle {
    try {
      const result = this.context.callFunction(this.fns[name], this.context.undefined, ...args);
      if (result.error) throw toException(this.context, result.error);
      return result.value;
    } finally {
      for (const arg of args) arg.dispose();
    }
  }
}

function toException(context: QuickJSContext, handle: QuickJSHandle): GuestException {
  try {
    const dumped: unknown = context.dump(handle);
    if (typeof dumped === "object" && dumped !== null) {
      const { name, message } = dumped as { name?: unknown; message?: unknown };
      return new GuestException(String(name ?? "Error"), String(message ?? ""));
    }
    return new GuestException("Error", String(dumped));
  } finally {
    handle.dispose();
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

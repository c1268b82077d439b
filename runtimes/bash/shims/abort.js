/*
 * abort.js: Event, EventTarget, AbortController and AbortSignal (abort, timeout, any), enough for
 * just-bash's cooperative cancellation.
 */
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated as a classic script in QuickJS, not as a module.
  "use strict";
  class Event {
    constructor(type, init = {}) {
      this.type = String(type);
      this.bubbles = Boolean(init.bubbles);
      this.cancelable = Boolean(init.cancelable);
      this.defaultPrevented = false;
      this.target = null;
      this.currentTarget = null;
      this.timeStamp = Date.now();
    }
    preventDefault() {
      if (this.cancelable) this.defaultPrevented = true;
    }
    stopPropagation() {}
    stopImmediatePropagation() {}
  }

  class EventTarget {
    #listeners = new Map();
    addEventListener(type, listener, options) {
      if (listener === null || listener === undefined) return;
      const once = typeof options === "object" && options !== null && Boolean(options.once);
      const list = this.#listeners.get(type) ?? [];
      if (list.some((l) => l.listener === listener)) return;
      list.push({ listener, once });
      this.#listeners.set(type, list);
      const signal = typeof options === "object" && options !== null ? options.signal : undefined;
      if (signal) signal.addEventListener("abort", () => this.removeEventListener(type, listener), { once: true });
    }
    removeEventListener(type, listener) {
      const list = this.#listeners.get(type);
      if (!list) return;
      const i = list.findIndex((l) => l.listener === listener);
      if (i >= 0) list.splice(i, 1);
    }
    dispatchEvent(event) {
      event.target = this;
      event.currentTarget = this;
      const handler = this[`on${event.type}`];
      const list = [...(this.#listeners.get(event.type) ?? [])];
      if (typeof handler === "function") list.unshift({ listener: handler, once: false });
      for (const entry of list) {
        if (entry.once) this.removeEventListener(event.type, entry.listener);
        try {
          if (typeof entry.listener === "function") entry.listener.call(this, event);
          else if (entry.listener && typeof entry.listener.handleEvent === "function")
            entry.listener.handleEvent(event);
        } catch {
          // Listener errors are reported in browsers, never propagated to dispatchEvent's caller.
        }
      }
      return !event.defaultPrevented;
    }
  }

  const ABORT_MESSAGE = "This operation was aborted";
  const makeAbortError = () => {
    const e = new Error(ABORT_MESSAGE);
    e.name = "AbortError";
    return e;
  };

  const INTERNAL = Symbol("internal");

  class AbortSignal extends EventTarget {
    #aborted = false;
    #reason = undefined;
    constructor(key) {
      super();
      if (key !== INTERNAL) throw new TypeError("Illegal constructor");
      this.onabort = null;
    }
    get aborted() {
      return this.#aborted;
    }
    get reason() {
      return this.#reason;
    }
    throwIfAborted() {
      if (this.#aborted) throw this.#reason;
    }
    static abort(reason) {
      const signal = new AbortSignal(INTERNAL);
      signal[INTERNAL](reason === undefined ? makeAbortError() : reason);
      return signal;
    }
    static timeout(ms) {
      const signal = new AbortSignal(INTERNAL);
      setTimeout(() => {
        const e = new Error("The operation was aborted due to timeout");
        e.name = "TimeoutError";
        signal[INTERNAL](e);
      }, ms);
      return signal;
    }
    static any(signals) {
      const signal = new AbortSignal(INTERNAL);
      for (const s of signals) {
        if (s.aborted) {
          signal[INTERNAL](s.reason);
          return signal;
        }
      }
      for (const s of signals) s.addEventListener("abort", () => signal[INTERNAL](s.reason), { once: true });
      return signal;
    }
    [INTERNAL](reason) {
      if (this.#aborted) return;
      this.#aborted = true;
      this.#reason = reason;
      this.dispatchEvent(new Event("abort"));
    }
  }

  class AbortController {
    #signal = new AbortSignal(INTERNAL);
    get signal() {
      return this.#signal;
    }
    abort(reason) {
      this.#signal[INTERNAL](reason === undefined ? makeAbortError() : reason);
    }
  }

  class DOMException extends Error {
    constructor(message = "", name = "Error") {
      super(message);
      this.name = name;
    }
  }

  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  define("Event", Event);
  define("EventTarget", EventTarget);
  define("AbortSignal", AbortSignal);
  define("AbortController", AbortController);
  if (typeof globalThis.DOMException !== "function") define("DOMException", DOMException);
})();

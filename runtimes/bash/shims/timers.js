/*
 * timers.js: setTimeout / setInterval / setImmediate / queueMicrotask inside QuickJS.
 * Timers live in a queue here; the host pump asks `__sandbox.timers.nextDue()` and, once that time
 * has come (or the host decides to skip ahead), calls `__sandbox.timers.runDue(now)`.
 */
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated as a classic script in QuickJS, not as a module.
  "use strict";
  const queue = []; // { id, due, seq, fn, args, interval }
  let nextId = 1;
  let seq = 0;

  function insert(timer) {
    let i = queue.length;
    while (i > 0 && (queue[i - 1].due > timer.due || (queue[i - 1].due === timer.due && queue[i - 1].seq > timer.seq)))
      i--;
    queue.splice(i, 0, timer);
  }

  function schedule(fn, delay, args, repeat) {
    if (typeof fn !== "function") throw new TypeError("timer callback must be a function");
    const ms = Math.max(0, Number(delay) || 0);
    const id = nextId++;
    insert({ id, due: Date.now() + ms, seq: seq++, fn, args, interval: repeat ? Math.max(1, ms) : -1 });
    return id;
  }

  function cancel(id) {
    const i = queue.findIndex((t) => t.id === id);
    if (i >= 0) queue.splice(i, 1);
  }

  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });

  define("setTimeout", (fn, delay, ...args) => schedule(fn, delay, args, false));
  define("setInterval", (fn, delay, ...args) => schedule(fn, delay, args, true));
  define("setImmediate", (fn, ...args) => schedule(fn, 0, args, false));
  define("clearTimeout", (id) => cancel(id));
  define("clearInterval", (id) => cancel(id));
  define("clearImmediate", (id) => cancel(id));
  define("queueMicrotask", (fn) => {
    void Promise.resolve().then(() => fn());
  });

  __sandbox.timers = {
    /** Epoch ms of the earliest timer, or -1 when none is pending. */
    nextDue() {
      return queue.length === 0 ? -1 : queue[0].due;
    },
    /** Run every timer due at or before `now` (at most `max`); returns how many ran. */
    runDue(now, max) {
      let ran = 0;
      while (queue.length > 0 && queue[0].due <= now && ran < max) {
        const timer = queue.shift();
        if (timer.interval >= 0) insert({ ...timer, due: now + timer.interval, seq: seq++ });
        ran++;
        try {
          timer.fn(...timer.args);
        } catch {
          // An exception in a timer callback is dropped, as a browser would only report it.
        }
      }
      return ran;
    },
  };
})();

/*
 * QuickJS host shims for the just-bash bundle: pure JavaScript evaluated inside QuickJS before the
 * bundle. None of them reaches the host: there are no host functions in this context at all. The
 * host drives timers and reseeding by calling into `__sandbox` (see timers.js, random.js).
 *
 * globals.js: the internal `__sandbox` namespace, `self`, and `performance`.
 */
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated as a classic script in QuickJS, not as a module.
  "use strict";
  const define = (target, name, value) =>
    Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });

  define(globalThis, "__sandbox", Object.create(null));
  define(globalThis, "self", globalThis);

  const origin = Date.now();
  define(globalThis, "performance", {
    timeOrigin: origin,
    now: () => Date.now() - origin,
    mark() {},
    measure() {},
  });
})();

/*
 * console.js: a console that goes nowhere. just-bash writes guest output through its own result
 * objects; console calls from library code are dropped rather than reaching the host.
 */
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated as a classic script in QuickJS, not as a module.
  "use strict";
  const noop = () => {};
  const methods = [
    "log",
    "info",
    "warn",
    "error",
    "debug",
    "trace",
    "dir",
    "table",
    "group",
    "groupEnd",
    "time",
    "timeEnd",
    "assert",
    "count",
  ];
  const con = Object.create(null);
  for (const name of methods) con[name] = noop;
  Object.defineProperty(globalThis, "console", { value: con, writable: true, configurable: true, enumerable: false });
})();

/*
 * clone.js: structuredClone for plain data (primitives, arrays, objects, Map, Set, Date, RegExp,
 * ArrayBuffer and typed arrays, Error), preserving shared references and cycles. Functions and
 * symbols throw DataCloneError as in browsers.
 */
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated as a classic script in QuickJS, not as a module.
  "use strict";
  function dataCloneError(what) {
    return new DOMException(`${what} could not be cloned.`, "DataCloneError");
  }

  function clone(value, seen) {
    if (typeof value === "function" || typeof value === "symbol") throw dataCloneError(String(value));
    if (value === null || typeof value !== "object") return value;
    if (seen.has(value)) return seen.get(value);
    let out;
    if (Array.isArray(value)) {
      out = new Array(value.length);
      seen.set(value, out);
      for (let i = 0; i < value.length; i++) if (i in value) out[i] = clone(value[i], seen);
      return out;
    }
    if (value instanceof Date) out = new Date(value.getTime());
    else if (value instanceof RegExp) out = new RegExp(value.source, value.flags);
    else if (value instanceof ArrayBuffer) out = value.slice(0);
    else if (ArrayBuffer.isView(value)) {
      const buffer = clone(value.buffer, seen);
      const Ctor = value.constructor;
      out =
        value instanceof DataView
          ? new DataView(buffer, value.byteOffset, value.byteLength)
          : new Ctor(buffer, value.byteOffset, value.length);
    } else if (value instanceof Map) {
      out = new Map();
      seen.set(value, out);
      for (const [k, v] of value) out.set(clone(k, seen), clone(v, seen));
      return out;
    } else if (value instanceof Set) {
      out = new Set();
      seen.set(value, out);
      for (const v of value) out.add(clone(v, seen));
      return out;
    } else if (value instanceof Error) {
      out = new Error(value.message);
      out.name = value.name;
      if (value.stack !== undefined) out.stack = value.stack;
    } else {
      out = {};
      seen.set(value, out);
      for (const key of Object.keys(value)) out[key] = clone(value[key], seen);
      return out;
    }
    seen.set(value, out);
    return out;
  }

  Object.defineProperty(globalThis, "structuredClone", {
    value: (value) => clone(value, new Map()),
    writable: true,
    configurable: true,
    enumerable: false,
  });
})();

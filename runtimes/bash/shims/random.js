/*
 * random.js: Math.random replaced by xoshiro128**, reseeded by the host before every execution
 * (`__sandbox.reseed(a, b, c, d)` with 128 bits from the host's CSPRNG). Without the reseed every
 * execution restored from the same snapshot would print the same $RANDOM stream.
 * `__sandbox.randomUint32()` feeds crypto.getRandomValues (not a cryptographic generator; see README).
 */
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated as a classic script in QuickJS, not as a module.
  "use strict";
  const s = new Uint32Array([0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x85a308d3]);
  const rotl = (x, k) => (x << k) | (x >>> (32 - k));

  function next() {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  __sandbox.reseed = (a, b, c, d) => {
    s[0] = a >>> 0;
    s[1] = b >>> 0;
    s[2] = c >>> 0;
    s[3] = d >>> 0;
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
    for (let i = 0; i < 16; i++) next();
  };
  __sandbox.randomUint32 = next;

  Object.defineProperty(Math, "random", {
    value: function random() {
      // 53 random bits, as V8 does.
      return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
})();

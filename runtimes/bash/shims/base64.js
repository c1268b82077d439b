/*
 * base64.js: atob / btoa over latin1 strings, as in browsers.
 */
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated as a classic script in QuickJS, not as a module.
  "use strict";
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const LOOKUP = new Int16Array(256).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

  function btoa(input) {
    const s = String(input);
    let out = "";
    let i = 0;
    for (; i + 2 < s.length; i += 3) {
      const a = s.charCodeAt(i),
        b = s.charCodeAt(i + 1),
        c = s.charCodeAt(i + 2);
      if ((a | b | c) > 255) throw new Error("InvalidCharacterError: btoa input is not latin1");
      out +=
        ALPHABET[a >> 2] +
        ALPHABET[((a & 3) << 4) | (b >> 4)] +
        ALPHABET[((b & 15) << 2) | (c >> 6)] +
        ALPHABET[c & 63];
    }
    const rest = s.length - i;
    if (rest === 1) {
      const a = s.charCodeAt(i);
      if (a > 255) throw new Error("InvalidCharacterError: btoa input is not latin1");
      out += `${ALPHABET[a >> 2]}${ALPHABET[(a & 3) << 4]}==`;
    } else if (rest === 2) {
      const a = s.charCodeAt(i),
        b = s.charCodeAt(i + 1);
      if ((a | b) > 255) throw new Error("InvalidCharacterError: btoa input is not latin1");
      out += `${ALPHABET[a >> 2]}${ALPHABET[((a & 3) << 4) | (b >> 4)]}${ALPHABET[(b & 15) << 2]}=`;
    }
    return out;
  }

  function atob(input) {
    let s = String(input).replace(/[\t\n\f\r ]+/g, "");
    if (s.length % 4 === 0) s = s.replace(/={1,2}$/, "");
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s))
      throw new Error("InvalidCharacterError: atob input is not valid base64");
    let out = "";
    let buffer = 0;
    let bits = 0;
    for (let i = 0; i < s.length; i++) {
      buffer = (buffer << 6) | LOOKUP[s.charCodeAt(i)];
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += String.fromCharCode((buffer >> bits) & 255);
      }
    }
    return out;
  }

  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  define("btoa", btoa);
  define("atob", atob);
})();

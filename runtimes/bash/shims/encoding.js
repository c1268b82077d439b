/*
 * encoding.js: TextEncoder (UTF-8) and TextDecoder (UTF-8, latin1/ascii, UTF-16LE), WHATWG semantics:
 * invalid UTF-8 becomes U+FFFD unless `fatal`, a leading BOM is dropped unless `ignoreBOM`.
 */
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated as a classic script in QuickJS, not as a module.
  "use strict";
  const CHUNK = 8192;

  /** Code point at i (a lone surrogate becomes U+FFFD) and how many UTF-16 units it used. */
  function codePointAt(s, i) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
    }
    return c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
  }

  function encodeUtf8(str) {
    const s = String(str);
    // ASCII is the common case: one byte per unit, no second pass.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is for the whole ASCII range.
    if (!/[^\x00-\x7f]/.test(s)) {
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      return out;
    }
    let length = 0;
    for (let i = 0; i < s.length; i++) {
      const c = codePointAt(s, i);
      if (c >= 0x10000) i++;
      length += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    }
    const out = new Uint8Array(length);
    let o = 0;
    for (let i = 0; i < s.length; i++) {
      const c = codePointAt(s, i);
      if (c < 0x80) {
        out[o++] = c;
      } else if (c < 0x800) {
        out[o++] = 0xc0 | (c >> 6);
        out[o++] = 0x80 | (c & 63);
      } else if (c < 0x10000) {
        out[o++] = 0xe0 | (c >> 12);
        out[o++] = 0x80 | ((c >> 6) & 63);
        out[o++] = 0x80 | (c & 63);
      } else {
        i++;
        out[o++] = 0xf0 | (c >> 18);
        out[o++] = 0x80 | ((c >> 12) & 63);
        out[o++] = 0x80 | ((c >> 6) & 63);
        out[o++] = 0x80 | (c & 63);
      }
    }
    return out;
  }

  function codesToString(codes, n) {
    let s = "";
    for (let i = 0; i < n; i += CHUNK) s += String.fromCharCode.apply(null, codes.subarray(i, Math.min(n, i + CHUNK)));
    return s;
  }

  function decodeUtf8(bytes, fatal) {
    const units = new Uint16Array(bytes.length);
    let n = 0;
    let i = 0;
    const len = bytes.length;
    const bad = () => {
      if (fatal) throw new TypeError("The encoded data was not valid for encoding utf-8");
      units[n++] = 0xfffd;
    };
    while (i < len) {
      const b = bytes[i];
      if (b < 0x80) {
        units[n++] = b;
        i++;
        continue;
      }
      let need = 0;
      let cp = 0;
      let lower = 0x80;
      let upper = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        cp = b & 0x0f;
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        cp = b & 0x07;
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
      } else {
        bad();
        i++;
        continue;
      }
      let j = 1;
      for (; j <= need; j++) {
        const c = bytes[i + j];
        if (i + j >= len || c < lower || c > upper) break;
        lower = 0x80;
        upper = 0xbf;
        cp = (cp << 6) | (c & 0x3f);
      }
      if (j <= need) {
        bad();
        i += j;
        continue;
      }
      i += need + 1;
      if (cp >= 0x10000) {
        cp -= 0x10000;
        units[n++] = 0xd800 + (cp >> 10);
        units[n++] = 0xdc00 + (cp & 0x3ff);
      } else {
        units[n++] = cp;
      }
    }
    return codesToString(units, n);
  }

  function toBytes(input) {
    if (input === undefined) return new Uint8Array(0);
    if (input instanceof Uint8Array) return input;
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError("TextDecoder.decode: input must be a BufferSource");
  }

  const LABELS = {
    "utf-8": "utf-8",
    utf8: "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    latin1: "windows-1252",
    "iso-8859-1": "windows-1252",
    ascii: "windows-1252",
    "us-ascii": "windows-1252",
    "windows-1252": "windows-1252",
    "utf-16le": "utf-16le",
    "utf-16": "utf-16le",
  };

  class TextEncoder {
    get encoding() {
      return "utf-8";
    }
    encode(input = "") {
      return encodeUtf8(input);
    }
    encodeInto(input, dest) {
      const bytes = encodeUtf8(input);
      const written = Math.min(bytes.length, dest.length);
      dest.set(bytes.subarray(0, written));
      return { read: String(input).length, written };
    }
  }

  class TextDecoder {
    #encoding;
    #fatal;
    #ignoreBOM;
    constructor(label = "utf-8", options = {}) {
      const enc = LABELS[String(label).trim().toLowerCase()];
      if (enc === undefined) throw new RangeError(`The encoding label provided ('${label}') is invalid.`);
      this.#encoding = enc;
      this.#fatal = Boolean(options.fatal);
      this.#ignoreBOM = Boolean(options.ignoreBOM);
    }
    get encoding() {
      return this.#encoding;
    }
    get fatal() {
      return this.#fatal;
    }
    get ignoreBOM() {
      return this.#ignoreBOM;
    }
    decode(input, _options) {
      let bytes = toBytes(input);
      if (this.#encoding === "windows-1252") return codesToString(bytes, bytes.length);
      if (this.#encoding === "utf-16le") {
        const n = bytes.length >> 1;
        const units = new Uint16Array(n);
        for (let i = 0; i < n; i++) units[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
        let s = codesToString(units, n);
        if (!this.#ignoreBOM && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
        return s;
      }
      if (!this.#ignoreBOM && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
        bytes = bytes.subarray(3);
      return decodeUtf8(bytes, this.#fatal);
    }
  }

  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  define("TextEncoder", TextEncoder);
  define("TextDecoder", TextDecoder);
})();

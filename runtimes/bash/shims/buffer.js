/*
 * buffer.js: the small part of Node's Buffer that just-bash's browser bundle uses (gzip calls it
 * unconditionally; base64 and jq's @base64 use it when present): Buffer.from(string | bytes,
 * encoding), buf.toString(encoding) for utf8, latin1/binary, ascii, base64 and hex, plus isBuffer,
 * alloc, concat and byteLength. A Uint8Array subclass; nothing here reaches the host.
 */
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: evaluated as a classic script in QuickJS, not as a module.
  "use strict";
  const CHUNK = 8192;

  function normalise(encoding) {
    const e = String(encoding ?? "utf8").toLowerCase();
    if (e === "utf8" || e === "utf-8") return "utf8";
    if (e === "latin1" || e === "binary") return "latin1";
    if (e === "ascii" || e === "base64" || e === "hex") return e;
    throw new TypeError(`Unknown encoding: ${encoding}`);
  }

  function latin1String(bytes) {
    let s = "";
    for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK));
    return s;
  }

  class Buffer extends Uint8Array {
    static from(value, encodingOrOffset, length) {
      if (typeof value === "string") {
        const encoding = normalise(encodingOrOffset);
        let bytes;
        if (encoding === "utf8") bytes = new TextEncoder().encode(value);
        else if (encoding === "base64")
          bytes = Buffer.from(
            atob(
              value
                .replace(/-/g, "+")
                .replace(/_/g, "/")
                .replace(/[^A-Za-z0-9+/]/g, ""),
            ),
            "latin1",
          );
        else if (encoding === "hex") {
          const n = value.length >> 1;
          bytes = new Uint8Array(n);
          for (let i = 0; i < n; i++) {
            const byte = Number.parseInt(value.substr(i * 2, 2), 16);
            if (Number.isNaN(byte)) {
              bytes = bytes.subarray(0, i);
              break;
            }
            bytes[i] = byte;
          }
        } else {
          bytes = new Uint8Array(value.length);
          for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i) & (encoding === "ascii" ? 0x7f : 0xff);
        }
        const out = new Buffer(bytes.length);
        out.set(bytes);
        return out;
      }
      if (value instanceof ArrayBuffer)
        return new Buffer(value, encodingOrOffset ?? 0, length ?? value.byteLength - (encodingOrOffset ?? 0));
      if (ArrayBuffer.isView(value)) {
        const out = new Buffer(value.byteLength);
        out.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        return out;
      }
      if (Array.isArray(value)) {
        const out = new Buffer(value.length);
        for (let i = 0; i < value.length; i++) out[i] = value[i] & 0xff;
        return out;
      }
      throw new TypeError("Buffer.from: unsupported argument");
    }

    static alloc(size, fill = 0) {
      return new Buffer(size).fill(fill);
    }

    static isBuffer(value) {
      return value instanceof Buffer;
    }

    static byteLength(value, encoding) {
      return typeof value === "string" ? Buffer.from(value, encoding).length : value.byteLength;
    }

    static concat(list, totalLength) {
      const total = totalLength ?? list.reduce((n, b) => n + b.length, 0);
      const out = new Buffer(total);
      let offset = 0;
      for (const b of list) {
        if (offset >= total) break;
        out.set(b.subarray(0, total - offset), offset);
        offset += b.length;
      }
      return out;
    }

    toString(encoding, start = 0, end = this.length) {
      const bytes = this.subarray(start, end);
      switch (normalise(encoding)) {
        case "utf8":
          return new TextDecoder().decode(bytes);
        case "latin1":
          return latin1String(bytes);
        case "ascii":
          return latin1String(bytes.map((b) => b & 0x7f));
        case "base64":
          return btoa(latin1String(bytes));
        default:
          return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      }
    }
  }

  Object.defineProperty(globalThis, "Buffer", { value: Buffer, writable: true, configurable: true, enumerable: false });
})();

/**
 * The guest's `fetch`, `Headers`, `Request` and `Response`, evaluated inside the prelude's closure
 * (prelude.ts) so it is part of every prepared instance and costs a run nothing until it is called.
 *
 * `fetch` validates and marshals the request into plain data (method, url, a JSON list of header
 * pairs, an ArrayBuffer body, a redirect mode), makes ONE synchronous host call (`host.http`, see
 * http-bridge.ts) and resolves or rejects its promise from the reply, so callbacks run on the next
 * job tick. The reply is an ArrayBuffer: a little-endian u32 length, that many bytes of JSON
 * metadata, then the body. A refusal rejects with `TypeError("fetch failed: CODE: message")` whose
 * `.code` and `.cause.code` are the egress code. The intrinsics it relies on are captured when the
 * prelude runs, before any guest code, so a guest patching prototypes only changes its own view.
 */
import { MAX_GUEST_REQUEST_BODY_BYTES, MAX_GUEST_URL_LENGTH } from "../../src/sandbox/host-call.js";

/**
 * Evaluated eagerly by the prelude, before any guest code: every intrinsic the polyfill relies on,
 * read now so that a guest that later patches globals or prototypes only changes its own view. A
 * null-prototype object, so destructuring it never consults Object.prototype.
 */
export const FETCH_INTRINSICS_SOURCE = `({
  __proto__: null,
  U8: Uint8Array,
  apply: Reflect.apply,
  isView: ArrayBuffer.isView,
  u8slice: Uint8Array.prototype.slice,
  abslice: ArrayBuffer.prototype.slice,
  byteLengthOf: Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get,
  bufferOf: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), "buffer").get,
  jsonParse: JSON.parse,
  jsonStringify: JSON.stringify,
  PromiseCtor: Promise,
  iterator: Symbol.iterator,
  toStringTag: Symbol.toStringTag,
  objectKeys: Object.keys,
  defineProperty: Object.defineProperty,
  getOwnPropertyDescriptor: Object.getOwnPropertyDescriptor,
  getOwnPropertyNames: Object.getOwnPropertyNames,
  isInteger: Number.isInteger,
  String, Number, Set, WeakMap, ArrayBuffer, Error, TypeError, RangeError,
})`;

/**
 * The polyfill itself: a function expression `(host, encoder, intrinsics) => { fetch, Headers,
 * Request, Response }`. The prelude keeps it as a string and compiles it the first time a guest
 * touches one of the four globals (compiling it costs ~4 ms per instance, which a run that never
 * fetches should not pay). Its body reads no global: every name it needs comes from `intrinsics`.
 */
export const FETCH_PRELUDE_SOURCE = String.raw`(function installFetch(host, encoder, intrinsics) {
"use strict";
const {
  U8, apply, isView, u8slice, abslice, byteLengthOf, bufferOf, jsonParse, jsonStringify, PromiseCtor, iterator,
  toStringTag, objectKeys, defineProperty, getOwnPropertyDescriptor, getOwnPropertyNames, isInteger,
  String, Number, Set, WeakMap, ArrayBuffer, Error, TypeError, RangeError,
} = intrinsics;
const MAX_BODY = ${MAX_GUEST_REQUEST_BODY_BYTES};
const MAX_URL = ${MAX_GUEST_URL_LENGTH};
const TOKEN = /^[!#$%&'*+.^_\x60|~0-9A-Za-z-]+$/;
const FORBIDDEN_METHODS = ["CONNECT", "TRACE", "TRACK"];
const NORMALIZED_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

function failure(code, message) {
  const cause = new Error(message);
  cause.code = code;
  const error = new TypeError("fetch failed: " + code + ": " + message);
  error.cause = cause;
  error.code = code;
  return error;
}
const invalid = (message) => failure("EGRESS_INVALID_REQUEST", message);

// ---- Headers ----
function headerName(name) {
  const n = String(name);
  if (!TOKEN.test(n)) throw invalid("invalid header name " + jsonStringify(n));
  return n.toLowerCase();
}
function headerValue(value) {
  const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (/[\0\r\n]/.test(v)) throw invalid("invalid header value (contains CR, LF or NUL)");
  return v;
}
class Headers {
  #list = [];
  constructor(init) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) { for (const [n, v] of init.#list) this.#list.push([n, v]); return; }
    if (typeof init !== "object" && typeof init !== "function") throw invalid("headers must be an object, an array of [name, value] pairs or a Headers");
    if (typeof init[iterator] === "function") {
      for (const pair of init) {
        if (pair === null || typeof pair !== "object" || typeof pair[iterator] !== "function") throw invalid("each header must be a [name, value] pair");
        const items = [...pair];
        if (items.length !== 2) throw invalid("each header must be a [name, value] pair");
        this.append(items[0], items[1]);
      }
      return;
    }
    for (const key of objectKeys(init)) this.append(key, init[key]);
  }
  append(name, value) { this.#list.push([headerName(name), headerValue(value)]); }
  set(name, value) {
    const n = headerName(name); const v = headerValue(value);
    const i = this.#list.findIndex((e) => e[0] === n);
    if (i < 0) { this.#list.push([n, v]); return; }
    this.#list[i] = [n, v];
    this.#list = this.#list.filter((e, j) => e[0] !== n || j === i);
  }
  delete(name) { const n = headerName(name); this.#list = this.#list.filter((e) => e[0] !== n); }
  has(name) { const n = headerName(name); return this.#list.some((e) => e[0] === n); }
  get(name) {
    const n = headerName(name);
    const values = this.#list.filter((e) => e[0] === n).map((e) => e[1]);
    return values.length === 0 ? null : values.join(", ");
  }
  getSetCookie() { return this.#list.filter((e) => e[0] === "set-cookie").map((e) => e[1]); }
  *entries() {
    const names = [...new Set(this.#list.map((e) => e[0]))].sort();
    for (const n of names) {
      if (n === "set-cookie") { for (const v of this.getSetCookie()) yield [n, v]; }
      else yield [n, this.get(n)];
    }
  }
  *keys() { for (const [n] of this.entries()) yield n; }
  *values() { for (const [, v] of this.entries()) yield v; }
  forEach(callback, thisArg) { for (const [n, v] of this.entries()) apply(callback, thisArg, [v, n, this]); }
  [iterator]() { return this.entries(); }
  get [toStringTag]() { return "Headers"; }
  static pairs(headers) { return headers.#list.map((e) => [e[0], e[1]]); }
  static raw(pairs) { const h = new Headers(); for (const [n, v] of pairs) h.#list.push([String(n).toLowerCase(), String(v)]); return h; }
}
const headerPairs = Headers.pairs;
const rawHeaders = Headers.raw;
delete Headers.pairs;
delete Headers.raw;

// ---- bodies ----
function copyBytes(view) { return apply(u8slice, view, []); }
// The host answers with a JSON string literal (NUL-safe across the bridge).
function decodeBuffer(buffer) { return jsonParse(host.utf8Decode(buffer)); }
function utf8Decode(view) { return decodeBuffer(apply(bufferOf, copyBytes(view), [])); }
function bodyBytes(body) {
  if (body === undefined || body === null) return { bytes: null, type: null };
  if (typeof body === "string") return { bytes: encoder.encode(body), type: "text/plain;charset=UTF-8" };
  if (body instanceof ArrayBuffer) return { bytes: new U8(apply(abslice, body, [0])), type: null };
  if (isView(body)) return { bytes: copyBytes(new U8(body.buffer, body.byteOffset, body.byteLength)), type: null };
  if (typeof URLSearchParams === "function" && body instanceof URLSearchParams) {
    return { bytes: encoder.encode(String(body)), type: "application/x-www-form-urlencoded;charset=UTF-8" };
  }
  if (typeof body === "number" || typeof body === "boolean") return { bytes: encoder.encode(String(body)), type: "text/plain;charset=UTF-8" };
  throw invalid("body must be a string, an ArrayBuffer or a typed array (use JSON.stringify for objects)");
}
class Body {
  #bytes; #used = false;
  constructor(bytes) { this.#bytes = bytes; }
  get bodyUsed() { return this.#used; }
  get body() { return null; }
  take() {
    if (this.#used) throw new TypeError("Body is unusable: Body has already been read");
    this.#used = true;
    return this.#bytes === null ? new U8(0) : this.#bytes;
  }
  peek() { if (this.#used) throw new TypeError("Body is unusable: Body has already been read"); return this.#bytes; }
}
const bodyMethods = (bodyOf) => ({
  async arrayBuffer() { return copyBytes(bodyOf(this).take()).buffer; },
  async bytes() { return copyBytes(bodyOf(this).take()); },
  async text() { return utf8Decode(bodyOf(this).take()); },
  async json() { return jsonParse(utf8Decode(bodyOf(this).take())); },
  get bodyUsed() { return bodyOf(this).bodyUsed; },
  get body() { return null; },
});
function installBody(cls, bodyOf) {
  const methods = bodyMethods(bodyOf);
  for (const key of getOwnPropertyNames(methods)) defineProperty(cls.prototype, key, getOwnPropertyDescriptor(methods, key));
}

// ---- Request ----
function checkUrl(input) {
  const url = String(input);
  if (url.length > MAX_URL) throw failure("EGRESS_INVALID_URL", "the URL is longer than " + MAX_URL + " characters");
  if (!/^https?:\/\/[^\s\/?#]+/i.test(url) || /[\0-\x20\x7f]/.test(url)) {
    throw failure("EGRESS_INVALID_URL", "only absolute http(s) URLs can be fetched: " + jsonStringify(url.slice(0, 200)));
  }
  return url;
}
function checkMethod(method) {
  const m = String(method);
  if (!TOKEN.test(m)) throw invalid("invalid method " + jsonStringify(m));
  const upper = m.toUpperCase();
  if (FORBIDDEN_METHODS.includes(upper)) throw invalid("method " + upper + " is not allowed");
  return NORMALIZED_METHODS.includes(upper) ? upper : m;
}
function checkRedirect(mode) {
  if (mode === undefined) return "follow";
  if (mode === "follow" || mode === "manual" || mode === "error") return mode;
  throw invalid("redirect must be \"follow\", \"manual\" or \"error\"");
}
const requestBodies = new WeakMap();
class Request {
  #url; #method; #headers; #redirect; #signal;
  constructor(input, init) {
    const options = init === undefined || init === null ? {} : init;
    if (typeof options !== "object" && typeof options !== "function") throw invalid("init must be an object");
    const base = input instanceof Request ? input : null;
    this.#url = base ? base.url : checkUrl(input);
    this.#method = checkMethod(options.method !== undefined ? options.method : base ? base.method : "GET");
    this.#headers = new Headers(options.headers !== undefined ? options.headers : base ? base.headers : undefined);
    this.#redirect = checkRedirect(options.redirect !== undefined ? options.redirect : base ? base.redirect : undefined);
    this.#signal = options.signal !== undefined ? options.signal : base ? base.signal : null;
    let bytes = null;
    if (options.body !== undefined && options.body !== null) {
      const body = bodyBytes(options.body);
      bytes = body.bytes;
      if (body.type !== null && !this.#headers.has("content-type")) this.#headers.set("content-type", body.type);
    } else if (base) {
      const inherited = requestBodies.get(base).peek();
      bytes = inherited === null ? null : copyBytes(inherited);
    }
    if (bytes !== null && (this.#method === "GET" || this.#method === "HEAD")) throw invalid("a " + this.#method + " request cannot have a body");
    if (bytes !== null && bytes.byteLength > MAX_BODY) throw invalid("the body is larger than " + MAX_BODY + " bytes");
    requestBodies.set(this, new Body(bytes));
  }
  get url() { return this.#url; }
  get method() { return this.#method; }
  get headers() { return this.#headers; }
  get redirect() { return this.#redirect; }
  get signal() { return this.#signal; }
  clone() { return new Request(this); }
  get [toStringTag]() { return "Request"; }
  static parts(r) { return { url: r.#url, method: r.#method, headers: r.#headers, redirect: r.#redirect, signal: r.#signal }; }
}
const requestParts = Request.parts;
delete Request.parts;
installBody(Request, (r) => requestBodies.get(r));

// ---- Response ----
const responseBodies = new WeakMap();
class Response {
  #status; #statusText; #headers; #url; #redirected; #type;
  constructor(body, init) {
    const options = init === undefined || init === null ? {} : init;
    const status = options.status === undefined ? 200 : Number(options.status);
    if (!isInteger(status) || status < 200 || status > 599) throw new RangeError("init[\"status\"] must be in the range of 200 to 599, inclusive.");
    this.#status = status;
    this.#statusText = options.statusText === undefined ? "" : String(options.statusText);
    this.#headers = new Headers(options.headers);
    this.#url = "";
    this.#redirected = false;
    this.#type = "default";
    const parsed = bodyBytes(body);
    if (parsed.type !== null && !this.#headers.has("content-type")) this.#headers.set("content-type", parsed.type);
    responseBodies.set(this, new Body(parsed.bytes));
  }
  get status() { return this.#status; }
  get ok() { return this.#status >= 200 && this.#status <= 299; }
  get statusText() { return this.#statusText; }
  get headers() { return this.#headers; }
  get url() { return this.#url; }
  get redirected() { return this.#redirected; }
  get type() { return this.#type; }
  clone() {
    const bytes = responseBodies.get(this).peek();
    return responseFrom({ status: this.#status, statusText: this.#statusText, headers: headerPairs(this.#headers), url: this.#url, redirected: this.#redirected }, bytes === null ? null : copyBytes(bytes), this.#type);
  }
  get [toStringTag]() { return "Response"; }
  static json(data, init) {
    const response = new Response(jsonStringify(data), init);
    response.#headers.set("content-type", "application/json");
    return response;
  }
  static error() {
    const response = new Response(null);
    response.#status = 0;
    response.#type = "error";
    return response;
  }
  static redirect(url, status) {
    const code = status === undefined ? 302 : status;
    if (!REDIRECT_STATUSES.includes(code)) throw new RangeError("Invalid status code " + code);
    const response = new Response(null, { status: code, headers: [["location", checkUrl(url)]] });
    return response;
  }
  static from(meta, bytes, type) {
    const response = new Response(null);
    response.#headers = rawHeaders(meta.headers);
    response.#status = meta.status;
    response.#statusText = meta.statusText;
    response.#url = meta.url;
    response.#redirected = meta.redirected;
    response.#type = type;
    responseBodies.set(response, new Body(bytes));
    return response;
  }
}
installBody(Response, (r) => responseBodies.get(r));
const responseFrom = Response.from;
delete Response.from;

// ---- fetch ----
function decodeReply(buffer) {
  const head = new U8(buffer, 0, 4);
  const length = head[0] + head[1] * 256 + head[2] * 65536 + head[3] * 16777216;
  const meta = jsonParse(decodeBuffer(apply(abslice, buffer, [4, 4 + length])));
  return { meta, body: new U8(apply(abslice, buffer, [4 + length])) };
}
function send(request) {
  const { url, method, headers, redirect: mode, signal } = requestParts(request);
  if (signal !== null && typeof signal === "object" && signal.aborted) {
    const reason = signal.reason;
    throw reason !== undefined ? reason : failure("EGRESS_ABORTED", "the request was aborted");
  }
  const bytes = requestBodies.get(request).take();
  const redirect = mode === "follow" ? "follow" : "manual";
  const hasBody = bytes.byteLength > 0 || !(method === "GET" || method === "HEAD");
  const buffer = hasBody ? apply(bufferOf, copyBytes(bytes), []) : undefined;
  const reply = host.http(method, url, jsonStringify(headerPairs(headers)), buffer, redirect);
  if (!(reply instanceof ArrayBuffer) || apply(byteLengthOf, reply, []) < 4) throw failure("EGRESS_INTERNAL", "the host did not answer");
  const { meta, body } = decodeReply(reply);
  if (!meta.ok) throw failure(String(meta.code), String(meta.message));
  if (mode === "error" && REDIRECT_STATUSES.includes(meta.status)) {
    throw new TypeError("fetch failed: unexpected redirect (redirect mode is \"error\")");
  }
  return responseFrom(meta, method === "HEAD" ? new U8(0) : body, "basic");
}
// An arrow function, like the platform's fetch it is not a constructor.
const fetch = (input, init) =>
  new PromiseCtor((resolve, reject) => {
    try {
      resolve(send(new Request(input, init)));
    } catch (error) {
      reject(error);
    }
  });
return { fetch, Headers, Request, Response };
})`;

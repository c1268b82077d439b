/**
 * JavaScript evaluated inside each fresh QuickJS context before the guest's code: a Node-compatible
 * subset (console, process, require("fs"|"path"), timers, TextEncoder/TextDecoder, Buffer-lite,
 * fetch/Headers/Request/Response from prelude-fetch.ts, compiled on first use) built only on the
 * `__host` bridge functions of host-bridge.ts. The bridge object is captured in this
 * closure and deleted from the global object before guest code runs. The prelude evaluates to a
 * `start` function the host calls when the execution begins, so an instance can be prepared ahead.
 */
import { SCRIPT_FILES, WORKSPACE } from "../../src/sandbox/types.js";
import { FETCH_INTRINSICS_SOURCE } from "./prelude-fetch.js";

export const PRELUDE_FILENAME = "<sandbox-prelude>";
/** Where the guest's script lives (its `__filename`). */
export const SCRIPT_PATH = `${WORKSPACE}/${SCRIPT_FILES.javascript}`;

export const PRELUDE_SOURCE = String.raw`(function (host) {
"use strict";
const g = globalThis;
delete g.__host;

// ---- text encoding ----
// The host answers with a JSON string literal (NUL-safe across the bridge).
const parseJson = JSON.parse;
const utf8Decode = (buffer) => parseJson(host.utf8Decode(buffer));
class TextEncoder {
  get encoding() { return "utf-8"; }
  encode(s = "") { return new Uint8Array(host.utf8Encode(String(s))); }
}
class TextDecoder {
  get encoding() { return "utf-8"; }
  decode(bytes) {
    if (bytes === undefined) return "";
    const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return utf8Decode(view.slice().buffer);
  }
}
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// A minimal Buffer: bytes that read back as UTF-8 text.
class SandboxBuffer extends Uint8Array {
  toString(encoding) {
    if (encoding === "base64") return btoaBytes(this);
    if (encoding === "hex") return Array.from(this, (b) => b.toString(16).padStart(2, "0")).join("");
    return decoder.decode(this);
  }
  static from(value, encoding) {
    if (typeof value === "string") {
      if (encoding === "base64") return new SandboxBuffer(atobBytes(value));
      return new SandboxBuffer(encoder.encode(value));
    }
    return new SandboxBuffer(value);
  }
  static isBuffer(value) { return value instanceof SandboxBuffer; }
  static byteLength(s) { return encoder.encode(String(s)).byteLength; }
  static concat(list) {
    const total = list.reduce((n, b) => n + b.byteLength, 0);
    const out = new SandboxBuffer(total);
    let off = 0;
    for (const b of list) { out.set(b, off); off += b.byteLength; }
    return out;
  }
}
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function btoaBytes(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return out;
}
function atobBytes(s) {
  const clean = String(s).replace(/[^A-Za-z0-9+/]/g, "");
  const out = [];
  for (let i = 0; i < clean.length; i += 4) {
    const n = (B64.indexOf(clean[i]) << 18) | (B64.indexOf(clean[i + 1]) << 12) |
      ((B64.indexOf(clean[i + 2]) & 63) << 6) | (B64.indexOf(clean[i + 3]) & 63);
    out.push((n >> 16) & 255);
    if (i + 2 < clean.length) out.push((n >> 8) & 255);
    if (i + 3 < clean.length) out.push(n & 255);
  }
  return new Uint8Array(out);
}
function toBytes(data) {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return encoder.encode(String(data));
}
function bytesToBuffer(bytes) { return bytes.slice().buffer; }

// ---- inspect / console ----
function inspect(value, depth = 2, seen = []) {
  switch (typeof value) {
    case "string": return seen.length === 0 ? value : "'" + value.replace(/'/g, "\\'") + "'";
    case "number": return Object.is(value, -0) ? "-0" : String(value);
    case "bigint": return value + "n";
    case "undefined": return "undefined";
    case "symbol": return value.toString();
    case "function": return "[Function: " + (value.name || "(anonymous)") + "]";
    case "boolean": return String(value);
  }
  if (value === null) return "null";
  if (seen.includes(value)) return "[Circular *1]";
  if (value instanceof Error) return value.stack ? value.name + ": " + value.message + "\n" + value.stack.replace(/\n$/, "") : value.name + ": " + value.message;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof RegExp) return String(value);
  const inner = seen.concat([value]);
  if (Array.isArray(value)) {
    if (depth < 0) return "[Array]";
    const items = value.map((v) => inspect(v, depth - 1, inner));
    return items.length === 0 ? "[]" : "[ " + items.join(", ") + " ]";
  }
  if (ArrayBuffer.isView(value)) return value.constructor.name + "(" + value.length + ") [ " + Array.from(value).join(", ") + " ]";
  if (value instanceof Map) return "Map(" + value.size + ") { " + Array.from(value, ([k, v]) => inspect(k, depth - 1, inner) + " => " + inspect(v, depth - 1, inner)).join(", ") + " }";
  if (value instanceof Set) return "Set(" + value.size + ") { " + Array.from(value, (v) => inspect(v, depth - 1, inner)).join(", ") + " }";
  if (depth < 0) return "[Object]";
  const keys = Object.keys(value);
  if (keys.length === 0) return "{}";
  const body = keys.map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : "'" + k + "'") + ": " + inspect(value[k], depth - 1, inner));
  return "{ " + body.join(", ") + " }";
}
function format(args) {
  if (args.length === 0) return "";
  let first = args[0];
  let rest = args.slice(1);
  if (typeof first === "string" && rest.length > 0) {
    first = first.replace(/%[sdifjoO%]/g, (m) => {
      if (m === "%%") return "%";
      if (rest.length === 0) return m;
      const v = rest.shift();
      switch (m) {
        case "%s": return typeof v === "string" ? v : inspect(v, 1, [{}]);
        case "%d": case "%i": return String(m === "%i" ? Math.trunc(Number(v)) : Number(v));
        case "%f": return String(Number(v));
        case "%j": try { return JSON.stringify(v); } catch { return "[Circular]"; }
        default: return inspect(v, 2, [{}]);
      }
    });
  }
  return [first, ...rest].map((v) => (typeof v === "string" ? v : inspect(v))).join(" ");
}
const write = (fd, text) => host.write(fd, String(text));
const counters = new Map();
const timersByLabel = new Map();
const console = {
  log: (...a) => write(1, format(a) + "\n"),
  info: (...a) => write(1, format(a) + "\n"),
  debug: (...a) => write(1, format(a) + "\n"),
  error: (...a) => write(2, format(a) + "\n"),
  warn: (...a) => write(2, format(a) + "\n"),
  trace: (...a) => write(2, "Trace: " + format(a) + "\n"),
  dir: (v) => write(1, inspect(v) + "\n"),
  table: (v) => write(1, inspect(v) + "\n"),
  assert: (cond, ...a) => { if (!cond) write(2, "Assertion failed" + (a.length ? ": " + format(a) : "") + "\n"); },
  count: (label = "default") => { const n = (counters.get(label) ?? 0) + 1; counters.set(label, n); write(1, label + ": " + n + "\n"); },
  time: (label = "default") => { timersByLabel.set(label, Date.now()); },
  timeEnd: (label = "default") => { const t = timersByLabel.get(label); if (t !== undefined) write(1, label + ": " + (Date.now() - t) + "ms\n"); timersByLabel.delete(label); },
};

// ---- randomness: a fresh host seed for every execution (set by start()) ----
let s0 = 1, s1 = 2, s2 = 3, s3 = 4;
{
  // xoshiro128** seeded per execution, so no two executions share a Math.random stream.
  Math.random = function random() {
    const r = Math.imul(((Math.imul(s1, 5) << 7) | (Math.imul(s1, 5) >>> 25)), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
    return r / 4294967296;
  };
}
const crypto = {
  getRandomValues(array) {
    if (!ArrayBuffer.isView(array)) throw new TypeError("The data argument must be an integer-type TypedArray");
    if (array.byteLength > 65536) throw new RangeError("The ArrayBufferView's byte length exceeds the number of bytes of entropy available (65536)");
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(new Uint8Array(host.randomBytes(array.byteLength)));
    return array;
  },
  randomUUID() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  },
};

// ---- timers, pumped by the host ----
let nextTimerId = 1;
const timers = new Map();
function addTimer(fn, ms, args, repeat) {
  if (typeof fn !== "function") throw new TypeError("The \"callback\" argument must be of type function");
  const id = nextTimerId++;
  const delay = Math.max(0, Number(ms) || 0);
  timers.set(id, { fn, args, delay, repeat, due: Date.now() + delay });
  return id;
}
const clearTimer = (id) => { timers.delete(typeof id === "object" && id !== null ? id.id : id); };
host.setHooks(
  function next() {
    let due = Infinity;
    for (const t of timers.values()) due = Math.min(due, t.due);
    return due === Infinity ? -1 : Math.max(0, due - Date.now());
  },
  function fire() {
    const now = Date.now();
    const ready = [...timers.entries()].filter(([, t]) => t.due <= now).sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
    for (const [id, t] of ready) {
      if (!timers.has(id)) continue;
      if (t.repeat) t.due = Date.now() + Math.max(1, t.delay); else timers.delete(id);
      t.fn(...t.args);
    }
  },
  // process.exitCode as the guest left it (0 when unset or not a number), read when the run ends.
  function exitCode() {
    const p = g.process;
    return typeof p === "object" && p !== null ? Number(p.exitCode) | 0 : 0;
  },
);

// ---- process ----
const makeStream = (fd) => ({ write(chunk) { host.write(fd, typeof chunk === "string" ? chunk : decoder.decode(toBytes(chunk))); return true; }, isTTY: false });
const process = {
  argv: [],
  argv0: "node",
  env: {},
  exitCode: undefined,
  platform: "wasi",
  arch: "wasm32",
  pid: 1,
  ppid: 0,
  version: "v0.0.0-sandbox",
  versions: { quickjs: host.engineVersion() },
  release: { name: "inline-sandbox" },
  stdout: makeStream(1),
  stderr: makeStream(2),
  cwd: () => "/workspace",
  chdir() { throw new Error("process.chdir() is not supported in this sandbox"); },
  exit(code) {
    const status = code === undefined ? (process.exitCode ?? 0) : Number(code) | 0;
    host.exit(status);
    throw new Error("process.exit(" + status + ")");
  },
  nextTick: (fn, ...args) => { queueMicrotask(() => fn(...args)); },
  hrtime: Object.assign((prev) => {
    const ms = host.now(); const s = Math.floor(ms / 1000); const ns = Math.floor((ms % 1000) * 1e6);
    return prev ? [s - prev[0], ns - prev[1]] : [s, ns];
  }, { bigint: () => BigInt(Math.floor(host.now() * 1e6)) }),
  uptime: () => host.now() / 1000,
  memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }),
  on() { return process; },
  once() { return process; },
  emitWarning: (w) => write(2, "Warning: " + w + "\n"),
};

// ---- fs (sync API on the host's in-memory workspace) ----
function fsCall(op, a, b, c) {
  const r = host.fs(op, a, b, c);
  if (r !== null && typeof r === "object" && typeof r.errno === "string") {
    const err = new Error(r.message);
    err.code = r.errno; err.errno = r.errno; err.syscall = op; err.path = String(a);
    throw err;
  }
  return r;
}
const isStdin = (p) => p === 0 || p === "/dev/stdin";
function pathArg(p) {
  if (typeof URL !== "undefined" && p instanceof URL) return p.pathname;
  if (typeof p !== "string") throw new TypeError("The \"path\" argument must be of type string");
  return p;
}
function readFileSync(path, options) {
  const encoding = typeof options === "string" ? options : options?.encoding;
  const bytes = isStdin(path) ? encoder.encode(host.stdin()) : new Uint8Array(fsCall("read", pathArg(path)));
  if (encoding === "utf8" || encoding === "utf-8") return decoder.decode(bytes);
  if (encoding) return SandboxBuffer.from(bytes).toString(encoding);
  return SandboxBuffer.from(bytes);
}
function statSync(path) {
  const s = fsCall("stat", pathArg(path));
  const now = new Date();
  return { size: s.size, isFile: () => s.kind === "file", isDirectory: () => s.kind === "directory", isSymbolicLink: () => false, mtime: now, ctime: now, atime: now, mode: s.kind === "file" ? 0o100644 : 0o40755 };
}
const fs = {
  readFileSync,
  writeFileSync: (path, data) => { fsCall("write", pathArg(path), bytesToBuffer(toBytes(data)), false); },
  appendFileSync: (path, data) => { fsCall("write", pathArg(path), bytesToBuffer(toBytes(data)), true); },
  existsSync: (path) => { try { fsCall("stat", pathArg(path)); return true; } catch { return false; } },
  statSync,
  lstatSync: statSync,
  readdirSync: (path) => fsCall("readdir", pathArg(path)),
  mkdirSync: (path, options) => { fsCall("mkdir", pathArg(path), Boolean(options?.recursive)); },
  unlinkSync: (path) => { fsCall("rm", pathArg(path), false, false); },
  rmdirSync: (path, options) => { fsCall("rm", pathArg(path), Boolean(options?.recursive), true); },
  rmSync: (path, options) => {
    try { fsCall("rm", pathArg(path), Boolean(options?.recursive), true); }
    catch (e) { if (!(options?.force && e.code === "ENOENT")) throw e; }
  },
  renameSync: (from, to) => { fsCall("rename", pathArg(from), pathArg(to)); },
  copyFileSync: (from, to) => { fsCall("write", pathArg(to), bytesToBuffer(new Uint8Array(fsCall("read", pathArg(from)))), false); },
};
const promisify = (fn) => (...args) => new Promise((resolve, reject) => { try { resolve(fn(...args)); } catch (e) { reject(e); } });
fs.promises = Object.fromEntries(Object.entries(fs).filter(([k]) => k.endsWith("Sync")).map(([k, fn]) => [k.slice(0, -4), promisify(fn)]));

// ---- path (POSIX) ----
function normalize(p) {
  const abs = p.startsWith("/");
  const out = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") { if (out.length && out[out.length - 1] !== "..") out.pop(); else if (!abs) out.push(".."); }
    else out.push(seg);
  }
  const s = (abs ? "/" : "") + out.join("/");
  return s === "" ? "." : s;
}
const path = {
  sep: "/",
  delimiter: ":",
  normalize,
  join: (...parts) => normalize(parts.filter((x) => x !== "").join("/")),
  resolve: (...parts) => { let r = "/workspace"; for (const p of parts) r = p.startsWith("/") ? p : r + "/" + p; return normalize(r); },
  dirname: (p) => { const i = p.replace(/\/+$/, "").lastIndexOf("/"); return i < 0 ? "." : i === 0 ? "/" : p.slice(0, i); },
  basename: (p, ext) => { const b = p.replace(/\/+$/, "").split("/").pop() ?? ""; return ext && b.endsWith(ext) ? b.slice(0, -ext.length) : b; },
  extname: (p) => { const b = path.basename(p); const i = b.lastIndexOf("."); return i <= 0 ? "" : b.slice(i); },
  isAbsolute: (p) => p.startsWith("/"),
  relative: (from, to) => {
    const a = path.resolve(from).split("/").filter(Boolean); const b = path.resolve(to).split("/").filter(Boolean);
    let i = 0; while (i < a.length && a[i] === b[i]) i++;
    return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/");
  },
};
path.posix = path;

const modules = { fs, path, "fs/promises": fs.promises, crypto };
function require(name) {
  const key = String(name).replace(/^node:/, "");
  if (Object.prototype.hasOwnProperty.call(modules, key)) return modules[key];
  const err = new Error("Cannot find module '" + name + "': not available in this sandbox");
  err.code = "MODULE_NOT_FOUND";
  throw err;
}

// fetch, Headers, Request and Response: compiled the first time the guest reads one of them (a run
// that never fetches does not pay for compiling the polyfill). Everything the compilation and the
// polyfill use is captured here, before guest code: the indirect eval, the intrinsics, the bridge
// (whose fetchSource() hands over the polyfill's source, see prelude-fetch.ts).
const fetchIntrinsics = ${FETCH_INTRINSICS_SOURCE};
const compileScript = g.eval;
const defineGlobal = Object.defineProperty;
const ownDescriptor = Object.getOwnPropertyDescriptor;
const WEB_NAMES = ["fetch", "Headers", "Request", "Response"];
const webGetters = [];
let web;
function installWeb() {
  if (web === undefined) web = compileScript(host.fetchSource())(host, encoder, fetchIntrinsics);
  // Each global that still holds its lazy getter becomes a plain data property (as if assigned at
  // start); one the guest has redefined meanwhile is left alone.
  for (let i = 0; i < 4; i++) {
    const name = WEB_NAMES[i];
    const current = ownDescriptor(g, name);
    if (current === undefined || current.get !== webGetters[i]) continue;
    try {
      defineGlobal(g, name, { value: web[name], writable: true, enumerable: true, configurable: true });
    } catch {
      // The guest made the global object non-extensible or sealed: the getter keeps answering.
    }
  }
  return web;
}
for (let i = 0; i < 4; i++) {
  const name = WEB_NAMES[i];
  webGetters[i] = function () { return installWeb()[name]; };
  defineGlobal(g, name, {
    get: webGetters[i],
    set(value) { defineGlobal(g, name, { value, writable: true, enumerable: true, configurable: true }); },
    enumerable: true,
    configurable: true,
  });
}

Object.assign(g, {
  console, process, require, crypto, TextEncoder, TextDecoder, Buffer: SandboxBuffer,
  setTimeout: (fn, ms, ...args) => addTimer(fn, ms, args, false),
  setInterval: (fn, ms, ...args) => addTimer(fn, ms, args, true),
  setImmediate: (fn, ...args) => addTimer(fn, 0, args, false),
  clearTimeout: clearTimer, clearInterval: clearTimer, clearImmediate: clearTimer,
  queueMicrotask: (fn) => { Promise.resolve().then(fn); },
  atob: (s) => String.fromCharCode(...atobBytes(s)),
  btoa: (s) => btoaBytes(Uint8Array.from(String(s), (c) => c.charCodeAt(0) & 255)),
  global: g,
});
// Called by the host when an execution begins: the instance may have been prepared before the
// request existed, so everything per-execution is read here. Returns the arguments of the guest's
// CommonJS-style main function: exports, require, module, __filename, __dirname.
return function start() {
  const run = JSON.parse(host.startJson());
  process.env = run.env;
  process.argv = run.argv;
  [s0, s1, s2, s3] = run.seed;
  const module = { exports: {} };
  return [module.exports, require, module, ${JSON.stringify(SCRIPT_PATH)}, ${JSON.stringify(WORKSPACE)}];
};
})(globalThis.__host);
`;

/**
 * curl's request, built from its options: URL (scheme check, -G query), method, headers with
 * curl's defaults, and a byte-exact body (-d/--data-binary/--data-urlencode parts joined with `&`,
 * -F multipart, -T upload). Files are read as bytes from the virtual filesystem, `@-` from stdin.
 * Everything invalid is reported here, before the host is asked anything.
 */
import type { IFileSystem } from "just-bash/browser";
import { MAX_GUEST_REQUEST_BODY_BYTES, MAX_GUEST_URL_LENGTH } from "../../../../src/sandbox/host-call.js";
import type { HttpCall } from "../host-http.js";
import type { CurlOptions, DataPart, FormField } from "./args.js";

/** A refusal made before any host call; `exitCode` follows curl's numbering. */
export class CurlInputError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface CurlIo {
  readonly fs: IFileSystem;
  readonly cwd: string;
  /** stdin as a latin1 byte string. */
  readonly stdin: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const USER_AGENT = "curl/8.5.0 (just-bash; inline-sandbox)";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function buildRequest(o: CurlOptions, io: CurlIo): Promise<HttpCall> {
  if (o.url === undefined || o.url === "") throw new CurlInputError(2, "curl: no URL specified");
  let url = checkUrl(o.url);
  const data = o.data.length > 0 ? await joinData(o.data, io) : undefined;
  let body: Uint8Array | undefined;
  let contentType: string | undefined;
  if (o.uploadFile !== undefined) {
    body = await readFile(io, o.uploadFile);
  } else if (o.form.length > 0) {
    const form = await multipart(o.form, io);
    body = form.body;
    contentType = `multipart/form-data; boundary=${form.boundary}`;
  } else if (data !== undefined && o.get) {
    url = checkUrl(appendQuery(url, decoder.decode(data)));
  } else if (data !== undefined) {
    body = data;
    contentType = "application/x-www-form-urlencoded";
  }
  const method = o.method ?? (o.head ? "HEAD" : o.uploadFile !== undefined ? "PUT" : body !== undefined ? "POST" : "GET");
  if (!TOKEN.test(method)) throw new CurlInputError(2, `curl: invalid method ${JSON.stringify(method)}`);
  if (body !== undefined && body.byteLength > MAX_GUEST_REQUEST_BODY_BYTES) {
    throw new CurlInputError(2, `curl: the request body is larger than ${MAX_GUEST_REQUEST_BODY_BYTES} bytes`);
  }
  const headers = requestHeaders(o, contentType);
  return { method, url, headers, body, redirect: o.location ? "follow" : "manual" };
}

function checkUrl(raw: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw);
  const url = scheme ? raw : `https://${raw}`;
  const name = scheme?.[1]?.toLowerCase();
  if (name !== undefined && name !== "http" && name !== "https") {
    throw new CurlInputError(1, `curl: (1) Protocol "${name}" not supported`);
  }
  if (url.length > MAX_GUEST_URL_LENGTH) throw new CurlInputError(3, "curl: (3) URL rejected: the URL is too long");
  if (/[\0-\x20\x7f]/.test(url) || !/^https?:\/\/[^/?#]+/i.test(url)) {
    throw new CurlInputError(3, "curl: (3) URL rejected: Malformed input to a URL function");
  }
  return url;
}

function appendQuery(url: string, query: string): string {
  const hash = url.indexOf("#");
  const base = hash < 0 ? url : url.slice(0, hash);
  const fragment = hash < 0 ? "" : url.slice(hash);
  const join = base.endsWith("?") || base.endsWith("&") ? "" : base.includes("?") ? "&" : "?";
  return `${base}${join}${query}${fragment}`;
}

function requestHeaders(o: CurlOptions, contentType: string | undefined): Array<[string, string]> {
  const given = new Set(o.headers.map(([n]) => n.toLowerCase()));
  const defaults: Array<[string, string]> = [
    ["User-Agent", USER_AGENT],
    ["Accept", "*/*"],
  ];
  if (contentType !== undefined) defaults.push(["Content-Type", contentType]);
  if (o.user !== undefined) defaults.push(["Authorization", `Basic ${base64(encoder.encode(o.user))}`]);
  const headers: Array<[string, string]> = [];
  for (const [name, value] of defaults) {
    const lower = name.toLowerCase();
    if (!given.has(lower) && !o.removed.includes(lower)) headers.push([name, value]);
  }
  for (const [name, value] of o.headers) {
    if (!TOKEN.test(name) || /[\0\r\n]/.test(value)) {
      throw new CurlInputError(2, `curl: invalid header ${JSON.stringify(`${name}: ${value}`)}`);
    }
    headers.push([name, value]);
  }
  return headers;
}

async function joinData(parts: readonly DataPart[], io: CurlIo): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    if (chunks.length > 0) chunks.push(encoder.encode("&"));
    if (part.kind === "value") {
      chunks.push(encoder.encode(part.text));
    } else if (part.kind === "file") {
      const bytes = await readFile(io, part.path);
      chunks.push(part.mode === "ascii" ? bytes.filter((b) => b !== 0x0a && b !== 0x0d) : bytes);
    } else {
      const text = part.path !== undefined ? decoder.decode(await readFile(io, part.path)) : (part.text ?? "");
      const encoded = formEncode(text);
      chunks.push(encoder.encode(part.name !== undefined ? `${part.name}=${encoded}` : encoded));
    }
  }
  return concat(chunks);
}

async function multipart(fields: readonly FormField[], io: CurlIo): Promise<{ body: Uint8Array; boundary: string }> {
  const random = new Uint8Array(12);
  crypto.getRandomValues(random);
  const boundary = `------------------------${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  const chunks: Uint8Array[] = [];
  for (const field of fields) {
    const content = field.file !== undefined ? await readFile(io, field.value) : encoder.encode(field.value);
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${field.name}"`;
    if (field.filename !== undefined) head += `; filename="${field.filename}"`;
    head += "\r\n";
    const type = field.contentType ?? (field.file === "attach" ? "application/octet-stream" : undefined);
    if (type !== undefined) head += `Content-Type: ${type}\r\n`;
    chunks.push(encoder.encode(`${head}\r\n`), content, encoder.encode("\r\n"));
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  return { body: concat(chunks), boundary };
}

async function readFile(io: CurlIo, path: string): Promise<Uint8Array> {
  if (path === "-") return Uint8Array.from(io.stdin, (c) => c.charCodeAt(0) & 0xff);
  try {
    return await io.fs.readFileBuffer(io.fs.resolvePath(io.cwd, path));
  } catch {
    throw new CurlInputError(26, `curl: (26) Failed to open/read local data from file/application: ${path}`);
  }
}

/** application/x-www-form-urlencoded, as curl's --data-urlencode writes it. */
function formEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function base64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += (B64[(n >> 18) & 63] ?? "") + (B64[(n >> 12) & 63] ?? "");
    out += i + 1 < bytes.length ? (B64[(n >> 6) & 63] ?? "") : "=";
    out += i + 2 < bytes.length ? (B64[n & 63] ?? "") : "=";
  }
  return out;
}

/**
 * curl's command line, parsed into CurlOptions. The same flags just-bash's own curl accepts, plus
 * --url, --data-ascii, --fail-with-body, --compressed, -k and clustered short flags with a trailing
 * value (`-sSLo out.json`). Options about transport (timeouts, TLS, redirect caps) are accepted and
 * left to the host, which enforces its own.
 */

export type DataPart =
  | { readonly kind: "value"; readonly text: string }
  | { readonly kind: "file"; readonly path: string; readonly mode: "ascii" | "binary" }
  | { readonly kind: "urlencode"; readonly name?: string; readonly text?: string; readonly path?: string };

export interface FormField {
  readonly name: string;
  /** Literal value, or a file path when `file` is set. */
  readonly value: string;
  readonly file?: "attach" | "content";
  readonly filename?: string;
  readonly contentType?: string;
}

export interface CurlOptions {
  url?: string;
  method?: string;
  headers: Array<[string, string]>;
  /** Lower-case names of default headers to leave out (`-H "Name:"`). */
  removed: string[];
  data: DataPart[];
  get: boolean;
  form: FormField[];
  user?: string;
  cookieJar?: string;
  uploadFile?: string;
  output?: string;
  remoteName: boolean;
  head: boolean;
  include: boolean;
  silent: boolean;
  showError: boolean;
  fail: boolean;
  failWithBody: boolean;
  location: boolean;
  writeOut?: string;
  verbose: boolean;
  help: boolean;
}

export class CurlUsageError extends Error {}

/** Long options that take a value, mapped to their short form or themselves. */
const LONG_WITH_VALUE: Readonly<Record<string, string>> = {
  request: "X",
  header: "H",
  data: "d",
  "data-ascii": "d",
  "data-raw": "data-raw",
  "data-binary": "data-binary",
  "data-urlencode": "data-urlencode",
  form: "F",
  user: "u",
  "user-agent": "A",
  referer: "e",
  cookie: "b",
  "cookie-jar": "c",
  "upload-file": "T",
  output: "o",
  "max-time": "m",
  "connect-timeout": "connect-timeout",
  "max-redirs": "max-redirs",
  "write-out": "w",
  url: "url",
  retry: "retry",
};

const LONG_FLAGS: Readonly<Record<string, string>> = {
  get: "G",
  "remote-name": "O",
  head: "I",
  include: "i",
  silent: "s",
  "show-error": "S",
  fail: "f",
  "fail-with-body": "fail-with-body",
  location: "L",
  verbose: "v",
  insecure: "k",
  compressed: "compressed",
  help: "help",
};

const SHORT_WITH_VALUE = new Set(["X", "H", "d", "F", "u", "A", "e", "b", "c", "T", "o", "m", "w"]);
const SHORT_FLAGS = new Set(["G", "O", "I", "i", "s", "S", "f", "L", "v", "k"]);

export function parseCurlArgs(args: readonly string[]): CurlOptions {
  const o: CurlOptions = {
    headers: [],
    removed: [],
    data: [],
    get: false,
    form: [],
    remoteName: false,
    head: false,
    include: false,
    silent: false,
    showError: false,
    fail: false,
    failWithBody: false,
    location: false,
    verbose: false,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const next = (option: string): string => {
      const value = args[++i];
      if (value === undefined) throw new CurlUsageError(`curl: option ${option}: requires parameter`);
      return value;
    };
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const valued = LONG_WITH_VALUE[name];
      if (valued !== undefined) {
        apply(o, valued, eq < 0 ? next(arg) : arg.slice(eq + 1));
        continue;
      }
      const flag = LONG_FLAGS[name];
      if (flag === undefined || eq >= 0) throw new CurlUsageError(`curl: option ${arg}: is unknown`);
      apply(o, flag, "");
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j] ?? "";
        if (SHORT_WITH_VALUE.has(c)) {
          const rest = arg.slice(j + 1);
          apply(o, c, rest !== "" ? rest : next(`-${c}`));
          break;
        }
        if (!SHORT_FLAGS.has(c)) throw new CurlUsageError(`curl: option -${c}: is unknown`);
        apply(o, c, "");
      }
      continue;
    }
    o.url = arg;
  }
  return o;
}

function apply(o: CurlOptions, option: string, value: string): void {
  switch (option) {
    case "X":
      o.method = value;
      return;
    case "H":
      return addHeader(o, value);
    case "d":
      o.data.push(value.startsWith("@") ? { kind: "file", path: value.slice(1), mode: "ascii" } : { kind: "value", text: value });
      return;
    case "data-raw":
      o.data.push({ kind: "value", text: value });
      return;
    case "data-binary":
      o.data.push(value.startsWith("@") ? { kind: "file", path: value.slice(1), mode: "binary" } : { kind: "value", text: value });
      return;
    case "data-urlencode":
      o.data.push(urlencodePart(value));
      return;
    case "F":
      o.form.push(formField(value));
      return;
    case "u":
      o.user = value;
      return;
    case "A":
      return setHeader(o, "User-Agent", value);
    case "e":
      return setHeader(o, "Referer", value);
    case "b":
      return setHeader(o, "Cookie", value);
    case "c":
      o.cookieJar = value;
      return;
    case "T":
      o.uploadFile = value;
      return;
    case "o":
      o.output = value;
      return;
    case "w":
      o.writeOut = value;
      return;
    case "url":
      o.url = value;
      return;
    case "max-redirs":
      if (!/^-?\d+$/.test(value)) throw new CurlUsageError("curl: option --max-redirs: expected a proper numerical parameter");
      return;
    case "m":
    case "connect-timeout":
    case "retry":
      if (!Number.isFinite(Number(value))) throw new CurlUsageError(`curl: option ${option}: expected a proper numerical parameter`);
      return;
    case "G":
      o.get = true;
      return;
    case "O":
      o.remoteName = true;
      return;
    case "I":
      o.head = true;
      return;
    case "i":
      o.include = true;
      return;
    case "s":
      o.silent = true;
      return;
    case "S":
      o.showError = true;
      return;
    case "f":
      o.fail = true;
      return;
    case "fail-with-body":
      o.failWithBody = true;
      return;
    case "L":
      o.location = true;
      return;
    case "v":
      o.verbose = true;
      return;
    case "help":
      o.help = true;
      return;
    default:
      // -k / --insecure and --compressed: the host owns TLS and content decoding.
      return;
  }
}

/** `Name: value` adds; `Name:` removes a default header; `Name;` sends it empty (curl's rules). */
function addHeader(o: CurlOptions, line: string): void {
  const colon = line.indexOf(":");
  if (colon > 0) {
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (value !== "") {
      o.headers.push([name, value]);
      return;
    }
    o.removed.push(name.toLowerCase());
    o.headers = o.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
    return;
  }
  if (line.endsWith(";") && line.length > 1) {
    o.headers.push([line.slice(0, -1).trim(), ""]);
    return;
  }
  throw new CurlUsageError(`curl: invalid header ${JSON.stringify(line)} (expected "Name: value")`);
}

function setHeader(o: CurlOptions, name: string, value: string): void {
  o.headers = o.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
  o.headers.push([name, value]);
}

function urlencodePart(value: string): DataPart {
  if (value.startsWith("@")) return { kind: "urlencode", path: value.slice(1) };
  const at = value.indexOf("@");
  const eq = value.indexOf("=");
  if (at > 0 && (eq < 0 || at < eq)) return { kind: "urlencode", name: value.slice(0, at), path: value.slice(at + 1) };
  if (eq === 0) return { kind: "urlencode", text: value.slice(1) };
  if (eq > 0) return { kind: "urlencode", name: value.slice(0, eq), text: value.slice(eq + 1) };
  return { kind: "urlencode", text: value };
}

function formField(spec: string): FormField {
  const eq = spec.indexOf("=");
  if (eq <= 0) throw new CurlUsageError(`curl: option -F: is badly used here (expected NAME=VALUE)`);
  const name = spec.slice(0, eq);
  let value = spec.slice(eq + 1);
  let contentType: string | undefined;
  let filename: string | undefined;
  const type = /;type=([^;]+)$/.exec(value);
  if (type) {
    contentType = type[1];
    value = value.slice(0, -type[0].length);
  }
  const file = /;filename=([^;]+)/.exec(value);
  if (file) {
    filename = file[1];
    value = value.replace(file[0], "");
  }
  if (value.startsWith("@") || value.startsWith("<")) {
    const path = value.slice(1);
    const attach = value.startsWith("@");
    return {
      name,
      value: path,
      file: attach ? "attach" : "content",
      ...(attach ? { filename: filename ?? path.split("/").pop() ?? path } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
    };
  }
  return { name, value, ...(contentType !== undefined ? { contentType } : {}), ...(filename !== undefined ? { filename } : {}) };
}

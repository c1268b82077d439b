/**
 * `curl` for the bash guest: parses the command line (args.ts), builds a byte-exact request
 * (request.ts), asks the host through the one host call (host-http.ts) and prints like curl:
 * body bytes on stdout (`-i`/`-I` add the status line and headers, `-o` writes a file, `-w` the
 * write-out), errors on stderr as `curl: (N) message` with curl's exit status N. Redirects are
 * followed only with -L. A refusal by the host prints `curl: (N) CODE: message`; N per code is in
 * EXIT_CODES (README.md lists them). The host makes every policy decision: this command filters
 * nothing by URL.
 */
import type { Command, ExecResult, IFileSystem } from "just-bash/browser";
import { defineCommand } from "just-bash/browser";
import type { GuestHttpReply } from "../../../../src/sandbox/host-call.js";
import { requestHttp } from "../host-http.js";
import { type CurlOptions, CurlUsageError, parseCurlArgs } from "./args.js";
import { buildRequest, CurlInputError } from "./request.js";

/** curl exit statuses for the host's refusal codes; any other code exits 7. */
export const EXIT_CODES: Readonly<Record<string, number>> = {
  EGRESS_INVALID_URL: 3,
  EGRESS_INVALID_REQUEST: 43,
  EGRESS_DNS_FAILED: 6,
  EGRESS_CONNECT_FAILED: 7,
  EGRESS_DENIED: 7,
  EGRESS_ADDRESS_DENIED: 7,
  APPROVAL_DENIED: 7,
  APPROVAL_EXPIRED: 7,
  EGRESS_APPROVAL_UNAVAILABLE: 7,
  EGRESS_CREDENTIAL_UNAVAILABLE: 7,
  EGRESS_TOO_MANY_REQUESTS: 7,
  DRY_RUN: 7,
  EGRESS_PROTOCOL_ERROR: 8,
  EGRESS_TIMEOUT: 28,
  EGRESS_ABORTED: 42,
  EGRESS_TOO_MANY_REDIRECTS: 47,
  EGRESS_TOO_LARGE: 63,
  EGRESS_INTERNAL: 7,
};

const USAGE = `Usage: curl [options...] <url>
 -d, --data <data>          HTTP POST data (@file: file contents, newlines stripped; @-: stdin)
     --data-binary <data>   HTTP POST data, bytes as given (@file: the file verbatim)
     --data-raw <data>      HTTP POST data, no @ interpretation
     --data-urlencode <d>   HTTP POST data, URL-encoded (name=text, name@file, @file)
 -F, --form <name=content>  multipart form data (name=@file attaches a file)
 -G, --get                  put the data in the URL query instead
 -H, --header <header>      extra header ("Name: value"; "Name:" removes a default one)
 -X, --request <method>     request method
 -I, --head                 HEAD request, print the headers
 -i, --include              print the response headers before the body
 -L, --location             follow redirects (otherwise a 3xx response is printed as is)
 -o, --output <file>        write the body to a file; -O names it after the URL
 -T, --upload-file <file>   PUT the file
 -u, --user <user:pass>     basic authentication
 -A, --user-agent <ua>      -e, --referer <url>      -b, --cookie <data>      -c, --cookie-jar <file>
 -f, --fail                 exit 22 without output on HTTP status >= 400 (--fail-with-body keeps it)
 -s, --silent               no error messages unless -S, --show-error
 -w, --write-out <format>   %{http_code} %{content_type} %{url_effective} %{size_download} %{redirect_url}
 -v, --verbose              print the request and response headers on stderr
The sandbox's host decides whether a request may leave; timeouts, TLS and redirect limits are its own.
`;

export function createCurlCommand(): Command {
  return defineCommand("curl", async (args, ctx) => {
    let options: CurlOptions;
    try {
      options = parseCurlArgs(args);
    } catch (error) {
      if (error instanceof CurlUsageError) return result("", `${error.message}\ncurl: try 'curl --help' for more information\n`, 2);
      throw error;
    }
    if (options.help) return result(USAGE, "", 0);
    const showErrors = !options.silent || options.showError;
    try {
      const request = await buildRequest(options, { fs: ctx.fs, cwd: ctx.cwd, stdin: ctx.stdin as unknown as string });
      const reply = await requestHttp(request);
      if (!reply.ok) {
        const status = EXIT_CODES[reply.code] ?? 7;
        return result("", showErrors ? `curl: (${status}) ${reply.code}: ${reply.message}\n` : "", status);
      }
      return await respond(options, request.method, reply, ctx.fs, ctx.cwd, showErrors);
    } catch (error) {
      if (error instanceof CurlInputError) return result("", showErrors ? `${error.message}\n` : "", error.exitCode);
      throw error;
    }
  });
}

type Success = Extract<GuestHttpReply, { ok: true }>;

async function respond(
  o: CurlOptions,
  method: string,
  reply: Success,
  fs: IFileSystem,
  cwd: string,
  showErrors: boolean,
): Promise<ExecResult> {
  const verbose = o.verbose ? verboseLog(method, reply) : "";
  if ((o.fail || o.failWithBody) && reply.status >= 400) {
    const message = showErrors ? `curl: (22) The requested URL returned error: ${reply.status}\n` : "";
    return result(o.failWithBody ? latin1(reply.body) : "", verbose + message, 22);
  }
  if (o.cookieJar !== undefined) {
    const cookies = reply.headers.filter(([n]) => n.toLowerCase() === "set-cookie").map(([, v]) => v);
    if (cookies.length > 0) await fs.writeFile(fs.resolvePath(cwd, o.cookieJar), `${cookies.join("\n")}\n`);
  }
  /** Header block as a latin1 byte string (UTF-8 encoded). */
  const head = o.include || o.head ? latin1Text(headerBlock(reply)) : "";
  const body = o.head || method === "HEAD" ? "" : latin1(reply.body);
  const writeOut = o.writeOut === undefined ? "" : formatWriteOut(o.writeOut, reply);
  const target = o.output ?? (o.remoteName ? remoteName(reply.url) : undefined);
  if (target !== undefined) {
    // Like curl, -i/-I put the headers into the file too.
    const headBytes = Uint8Array.from(head, (c) => c.charCodeAt(0));
    const bodyBytes = o.head || method === "HEAD" ? new Uint8Array(0) : reply.body;
    const bytes = new Uint8Array(headBytes.byteLength + bodyBytes.byteLength);
    bytes.set(headBytes);
    bytes.set(bodyBytes, headBytes.byteLength);
    try {
      await fs.writeFile(fs.resolvePath(cwd, target), bytes);
    } catch {
      return result("", showErrors ? `curl: (23) Failure writing output to destination: ${target}\n` : "", 23);
    }
    return result(writeOut, verbose, 0);
  }
  return result(head + body + writeOut, verbose, 0);
}

function headerBlock(reply: Success): string {
  const lines = [`HTTP/1.1 ${reply.status}${reply.statusText ? ` ${reply.statusText}` : ""}`];
  for (const [name, value] of reply.headers) lines.push(`${name}: ${value}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

function verboseLog(method: string, reply: Success): string {
  const lines = [`> ${method} ${reply.url}`, `< HTTP/1.1 ${reply.status} ${reply.statusText}`];
  for (const [name, value] of reply.headers) lines.push(`< ${name}: ${value}`);
  return `${lines.join("\n")}\n<\n`;
}

function header(reply: Success, name: string): string {
  return reply.headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? "";
}

function formatWriteOut(format: string, reply: Success): string {
  const isRedirect = reply.status >= 300 && reply.status < 400;
  const vars: Readonly<Record<string, string>> = {
    http_code: String(reply.status).padStart(3, "0"),
    response_code: String(reply.status),
    content_type: header(reply, "content-type"),
    url_effective: reply.url,
    size_download: String(reply.body.byteLength),
    redirect_url: isRedirect ? header(reply, "location") : "",
    num_redirects: reply.redirected ? "1" : "0",
  };
  return latin1Text(
    format
      .replace(/%\{([a-z_]+)\}/g, (_, name: string) => vars[name] ?? "")
      .replace(/%%/g, "%")
      .replace(/\\n/g, "\n")
      .replace(/\\t/g, "\t")
      .replace(/\\r/g, "\r"),
  );
}

function remoteName(url: string): string {
  const path = url.replace(/[?#].*$/, "");
  const name = path.slice(path.indexOf("//") + 2).split("/").slice(1).pop();
  return name === undefined || name === "" ? "index.html" : name;
}

/** stdout is handed to just-bash as a latin1 byte string (stdoutKind "bytes"). */
function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** Text we produce (headers, write-out) as UTF-8 bytes in latin1 form. */
function latin1Text(text: string): string {
  return latin1(new TextEncoder().encode(text));
}

function result(stdout: string, stderr: string, exitCode: number): ExecResult {
  return { stdout, stderr, exitCode, stdoutKind: "bytes" };
}

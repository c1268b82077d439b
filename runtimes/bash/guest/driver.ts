/**
 * The guest driver, bundled with just-bash and evaluated inside QuickJS once per instance. It builds
 * the Bash shell (filesystem layout, commands) at evaluation time, so that work is part of the
 * memory snapshot; per execution the host restores the snapshot and calls, in order:
 *   start(requestJson, ...fileContents)  -> sets limits and quota, writes files, starts the script
 *   state()                               -> "running" until the run settled ("http" while a
 *                                            command waits for the host's answer to a request)
 *   httpRequest() / httpBody()            -> the waiting request: JSON without the body, body bytes
 *   httpReply(json, body)                 -> the host's answer (host-http.ts)
 *   stdout() / stderr()                   -> ArrayBuffers with the output bytes
 *   summary()                             -> GuestSummary as JSON
 *   file(i)                               -> ArrayBuffer with the i-th workspace file
 * Once, at the boot, before the snapshot (never between executions):
 *   rehearse(requestJson)                 -> runs the request's script as start does, then removes
 *                                            the script file; "settled" when done
 *   endRehearsal()                        -> back to "idle"; throws if the rehearsal failed
 */
import { Bash, type CommandName, defineCommand, getCommandNames, type IFileSystem } from "just-bash/browser";
import {
  type ExecutionLimits,
  GUEST_SCRIPT_PATH,
  GUEST_WORKSPACE,
  type GuestRequest,
  type GuestState,
  type GuestSummary,
} from "./protocol.js";
import { createCurlCommand } from "./curl/curl.js";
import { httpChannel } from "./host-http.js";
import { createSandboxFs, type SandboxFs } from "./sandbox-fs.js";

/**
 * Commands that answer "not available in this sandbox" (status 127) instead of running: other
 * interpreters and wget are denied (curl is the one way to the network: curl/curl.ts); the rest do
 * not work in just-bash's browser bundle inside QuickJS (they need Node modules or a DOM). README.md
 * lists them.
 */
const UNAVAILABLE_COMMANDS: readonly string[] = [
  "python",
  "python3",
  "js-exec",
  "node",
  "sqlite3",
  "wget",
  "tar",
  "yq",
  "xan",
  "html-to-markdown",
];

const unavailable = UNAVAILABLE_COMMANDS.map((name) =>
  defineCommand(name, async () => ({
    stdout: "",
    stderr: `bash: ${name}: not available in this sandbox\n`,
    exitCode: 127,
  })),
);

/** Present in every run unless the request overrides them. */
const DEFAULT_ENV: Readonly<Record<string, string>> = {
  HOME: GUEST_WORKSPACE,
  PATH: "/usr/local/bin:/usr/bin:/bin",
  LANG: "C.UTF-8",
};

interface Outcome {
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly summary: GuestSummary;
  readonly files: readonly Uint8Array[];
}

/** Bash keeps its resolved limits in a (TypeScript-private) `limits` object read at every exec. */
interface LimitsHolder {
  limits: ExecutionLimits;
}

interface Shell {
  readonly bash: Bash;
  readonly sandboxFs: SandboxFs;
}

const encoder = new TextEncoder();

function createShell(): Shell {
  const sandboxFs = createSandboxFs();
  const commands = getCommandNames().filter(
    (name) => !UNAVAILABLE_COMMANDS.includes(name) && name !== "curl",
  ) as CommandName[];
  const bash = new Bash({
    fs: sandboxFs.fs,
    cwd: GUEST_WORKSPACE,
    env: { ...DEFAULT_ENV },
    commands,
    customCommands: [...unavailable, createCurlCommand()],
    executionLimitProfile: "hardened",
    python: false,
    javascript: false,
  });
  const holder = bash as unknown as LimitsHolder;
  if (typeof holder.limits !== "object" || holder.limits === null || typeof holder.limits.maxCallDepth !== "number") {
    throw new Error("bash guest: Bash has no limits object; refusing to run without limits");
  }
  sandboxFs.store.mkdirSync(GUEST_WORKSPACE, { recursive: true });
  return { bash, sandboxFs };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What `bash /workspace/main.sh args...` with the request's variables prefixed would run, without the
 * second shell: the script (a leading `#!` line dropped) and the environment just-bash's own `bash`
 * command gives it (its exported variables, then `$0` and the positional parameters as entries of the
 * exec's environment, as that command does). The second shell cost ~2 ms of a ~6 ms `echo 1`
 * (command lookup, reading the file back, a nested exec). Variable names bash could not hold are
 * left out.
 */
function scriptExec(request: GuestRequest): { script: string; env: Record<string, string> } {
  const env: Record<string, string> = { ...DEFAULT_ENV };
  for (const [name, value] of Object.entries(request.env)) if (ENV_NAME.test(name)) env[name] = value;
  const args = [...request.args];
  Object.assign(env, { 0: GUEST_SCRIPT_PATH, "#": String(args.length), "@": args.join(" "), "*": args.join(" ") });
  args.forEach((arg, i) => {
    env[String(i + 1)] = arg;
  });
  let script = request.script;
  if (script.startsWith("#!")) {
    const end = script.indexOf("\n");
    if (end !== -1) script = script.slice(end + 1);
  }
  return { script, env };
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

interface Collected {
  readonly paths: string[];
  readonly contents: Uint8Array[];
}

/** Every regular file under the workspace (symlinks are not followed; the quota bounds the total). */
async function collectFiles(fs: IFileSystem): Promise<Collected> {
  const paths: string[] = [];
  const contents: Uint8Array[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const names = [...(await fs.readdir(dir))].sort();
    for (const name of names) {
      const full = `${dir}/${name}`;
      const rel = prefix === "" ? name : `${prefix}/${name}`;
      const info = await fs.lstat(full);
      if (info.isSymbolicLink) continue;
      if (info.isDirectory) {
        await walk(full, rel);
      } else if (info.isFile) {
        paths.push(rel);
        contents.push(await fs.readFileBuffer(full));
      }
    }
  };
  if (await fs.exists(GUEST_WORKSPACE)) await walk(GUEST_WORKSPACE, "");
  return { paths, contents };
}

function describe(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

export function createBashGuest() {
  const shell = createShell();
  let state: GuestState = "idle";
  let outcome: Outcome | undefined;
  let rehearsal: { failure?: { name: string; message: string } } | undefined;

  async function execute(request: GuestRequest, contents: readonly ArrayBuffer[]): Promise<Outcome> {
    const { bash, sandboxFs } = shell;
    Object.assign((bash as unknown as LimitsHolder).limits, request.limits);
    // The inputs are the host's; the quota counts what the script adds on top of them.
    sandboxFs.setQuota(Number.MAX_SAFE_INTEGER);
    request.files.forEach((path, i) => {
      sandboxFs.store.writeFileSync(path, new Uint8Array(contents[i] ?? new ArrayBuffer(0)));
    });
    sandboxFs.store.writeFileSync(GUEST_SCRIPT_PATH, request.script);
    sandboxFs.setQuota(sandboxFs.retainedBytes() + request.writableBytes);
    let result: Awaited<ReturnType<Bash["exec"]>> | undefined;
    let failure: { name: string; message: string } | undefined;
    try {
      const { script, env } = scriptExec(request);
      result = await bash.exec(script, {
        stdin: request.stdin,
        env,
        replaceEnv: true,
        cwd: GUEST_WORKSPACE,
        rawScript: true,
      });
    } catch (error) {
      failure = describe(error);
    }
    const collected = await collectFiles(sandboxFs.fs);
    const stdoutKind = result?.stdoutKind ?? (result?.stdoutEncoding === "binary" ? "bytes" : "text");
    const stdout = result === undefined ? new Uint8Array(0) : stdoutKind === "bytes" ? latin1Bytes(result.stdout) : encoder.encode(result.stdout);
    const summary: GuestSummary = {
      exitCode: result?.exitCode ?? 1,
      files: collected.paths,
      quotaExceeded: sandboxFs.quotaExceeded(),
      ...(failure ? { failure } : {}),
    };
    return { stdout, stderr: encoder.encode(result?.stderr ?? ""), files: collected.contents, summary };
  }

  function settled(): Outcome {
    if (state !== "settled" || outcome === undefined) throw new Error(`bash guest: no settled run (state ${state})`);
    return outcome;
  }

  return Object.freeze({
    start(requestJson: string, ...contents: ArrayBuffer[]): void {
      if (state !== "idle") throw new Error(`bash guest: start called in state ${state}`);
      state = "running";
      const request = JSON.parse(requestJson) as GuestRequest;
      execute(request, contents).then(
        (value) => {
          outcome = value;
          state = "settled";
        },
        (error: unknown) => {
          const failure = describe(error);
          outcome = {
            stdout: new Uint8Array(0),
            stderr: new Uint8Array(0),
            files: [],
            summary: { exitCode: 1, files: [], quotaExceeded: shell.sandboxFs.quotaExceeded(), failure },
          };
          state = "settled";
        },
      );
    },
    rehearse(requestJson: string): void {
      if (state !== "idle" || rehearsal) throw new Error(`bash guest: rehearse called in state ${state}`);
      state = "running";
      rehearsal = {};
      const request = JSON.parse(requestJson) as GuestRequest;
      execute(request, [])
        .then(async (done) => {
          const { failure, exitCode } = done.summary;
          if (failure) throw Object.assign(new Error(failure.message), { name: failure.name });
          if (exitCode !== 0) throw new Error(`exit ${exitCode}: ${new TextDecoder().decode(done.stderr)}`);
          await shell.sandboxFs.store.rm(GUEST_SCRIPT_PATH);
        })
        .catch((error: unknown) => {
          if (rehearsal) rehearsal.failure = describe(error);
        })
        .finally(() => {
          state = "settled";
        });
    },
    endRehearsal(): void {
      if (state !== "settled" || !rehearsal) throw new Error(`bash guest: endRehearsal called in state ${state}`);
      const { failure } = rehearsal;
      if (failure) throw new Error(`bash guest: the rehearsal failed: ${failure.name}: ${failure.message}`);
      state = "idle";
      outcome = undefined;
    },
    state(): GuestState {
      return state === "running" && httpChannel.pending() ? "http" : state;
    },
    httpRequest: httpChannel.request,
    httpBody: httpChannel.body,
    httpReply: httpChannel.reply,
    stdout(): ArrayBuffer {
      return toArrayBuffer(settled().stdout);
    },
    stderr(): ArrayBuffer {
      return toArrayBuffer(settled().stderr);
    },
    summary(): string {
      return JSON.stringify(settled().summary);
    },
    file(index: number): ArrayBuffer {
      const bytes = settled().files[index];
      if (bytes === undefined) throw new RangeError(`bash guest: no file ${index}`);
      return toArrayBuffer(bytes);
    },
  });
}

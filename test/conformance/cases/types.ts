/**
 * Guest programs for the conformance suite, one set per language. Each snippet must behave the same
 * on every sandbox that runs the language (the real interpreter under ProcessSandbox and the WASM one).
 */
export interface LanguageCases {
  /** Prints exactly "hello world\n" and exits 0. */
  readonly hello: string;
  /** Copies all of stdin to stdout verbatim. */
  readonly echoStdin: string;
  /** Prints the script arguments joined by "," then "\n". */
  readonly printArgs: string;
  /** Prints the value of the environment variable GREETING then "\n". */
  readonly printEnv: string;
  /**
   * Reads input.txt, writes output.txt with that content upper-cased, writes nested/deep/new.txt
   * containing "new", and leaves untouched.txt alone.
   */
  readonly files: string;
  /** Exits with status 3, printing nothing. */
  readonly exit3: string;
  /** Raises an uncaught exception whose message is "boom". */
  readonly throwBoom: string;
  /** Never terminates. */
  readonly infiniteLoop: string;
  /** Allocates memory without bound (holding on to it). */
  readonly memoryBomb: string;
  /** Writes to stdout without bound. */
  readonly outputFlood: string;
  /**
   * Leaves traces: sets a global, patches a standard module or builtin, writes leak.txt in the
   * workspace and /tmp/leak.txt, and prints a random number from the language's default PRNG.
   */
  readonly leakWrite: string;
  /** Prints "clean\n" if and only if none of leakWrite's traces are visible. */
  readonly leakCheck: string;
  /** Prints a random number from the language's default PRNG (compared across executions). */
  readonly printRandom: string;
  /** Tries to read the absolute host path and print its content; failures go to stderr only. */
  readHostFile(path: string): string;
  /** Prints every environment variable it can see, one NAME=value a line. */
  readonly dumpEnv: string;
  /** Tries to open a TCP connection to 127.0.0.1:port and send "x"; failures go to stderr only. */
  connect(port: number): string;
}

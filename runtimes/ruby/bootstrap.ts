/**
 * The Ruby code the host evaluates (with rb_eval_string_protect) to run one request's script in an
 * interpreter restored from the snapshot. It gives the script what `ruby /workspace/main.rb args...`
 * would: ARGV, $0, ENV (exactly the request's), cwd /workspace, a freshly seeded PRNG, at_exit
 * handlers run after the script, flushed output, and the uncaught-exception report on stderr.
 *
 * Request data (args, env) is passed hex-encoded, so no request byte is ever parsed as Ruby.
 * The expression evaluates to an Integer: the exit status, or MEMORY_EXHAUSTED_STATUS when the
 * script died of NoMemoryError.
 */
import { SCRIPT_FILES, WORKSPACE } from "../../src/sandbox/types.js";

export const SCRIPT_PATH = `${WORKSPACE}/${SCRIPT_FILES.ruby}`;
/** Status the bootstrap returns for an uncaught NoMemoryError (not a valid exit status). */
export const MEMORY_EXHAUSTED_STATUS = -2;
/** Status for an exception that escaped the bootstrap's own handling. */
export const BOOTSTRAP_FAILED_STATUS = -3;
/** Where the snapshot keeps the compiled bootstrap until an execution takes it. */
export const BOOTSTRAP_GLOBAL = "$__inline_sandbox_bootstrap";
/** Where the snapshot keeps the bootstrap's prime step (BOOTSTRAP_PRIME) until a spare takes it. */
export const PRIME_GLOBAL = "$__inline_sandbox_prime";

function hex(value: string): string {
  return Buffer.from(value, "utf8").toString("hex");
}

function hexList(values: readonly string[]): string {
  return `[${values.map((v) => `"${hex(v)}"`).join(", ")}]`;
}

/**
 * Ruby source, evaluated once in the snapshot interpreter, that stores the bootstrap lambda in
 * BOOTSTRAP_GLOBAL: parsing and compiling it then happens once per service start instead of once
 * per execution (measured: ~1.5 ms of a ~3.5 ms bootstrap). What is the same for every execution
 * is done here, once, too: `$0`, the working directory (the workspace is preopened at the same fd
 * at boot and in every execution, and wasi-libc keeps the cwd in linear memory) and the `at_exit`
 * that collects the script's handlers (redefining a Kernel method in every execution also
 * invalidated the interpreter's method caches in every execution).
 *
 * The script is compiled by prism (`compile_file_prism`), the parser `ruby` 3.4 itself and `require`
 * use; `compile_file` used the older parse.y, so a syntax error in main.rb read differently from the
 * same error in a required file. Prism also reads the file in one go where parse.y read it line by
 * line: measured in one process, a 1 MB script of short lines compiled and ran in ~0.6 s against
 * ~1.6 s, and `puts 1` ran 0.03-0.09 ms faster (3 alternating pairs of 1,000 runs with 4 ms pauses).
 * The top-level frame is still `<main>`, as in `ruby main.rb`. (Passing the source inside the
 * evaluated call instead of as a file saved another ~0.1 ms on `puts 1`, but `compile` names that
 * frame `<compiled>`, which every backtrace would show.)
 */
export const BOOTSTRAP_DEFINITION = `
$0 = ${JSON.stringify(SCRIPT_PATH)}
Dir.chdir(${JSON.stringify(WORKSPACE)})
${BOOTSTRAP_GLOBAL} = (lambda do
  handlers = []
  seeded = false
  ${PRIME_GLOBAL} = lambda do
    srand
    seeded = true
  end
  Kernel.send(:define_method, :at_exit) do |&block|
    raise ArgumentError, "called without a block" unless block
    handlers << block
    block
  end
  Kernel.send(:private, :at_exit)
  Kernel.send(:module_function, :at_exit)
  decode = lambda { |h| [h].pack("H*").force_encoding(Encoding::UTF_8) }
  own_frame = lambda { |line| line.start_with?("eval:") || line.match?(/\\A[^:]*:in /) }
  report = lambda do |e|
    begin
      trace = e.backtrace
      e.set_backtrace(trace.reject(&own_frame)) if trace
      $stderr.write(e.full_message(highlight: false))
    rescue Exception
      begin
        $stderr.write("#{e.message rescue nil} (#{e.class})\\n")
      rescue Exception
        nil
      end
    end
  end
  # Allocated up front: reporting NoMemoryError must not need memory.
  nomem_message = ${JSON.stringify(`${SCRIPT_PATH}: failed to allocate memory (NoMemoryError)\n`)}.freeze
  run = lambda do |body|
    begin
      body.call
      nil
    rescue SystemExit => e
      e.status & 0xff
    rescue NoMemoryError
      begin
        $stderr.write(nomem_message)
      rescue Exception
        nil
      end
      ${MEMORY_EXHAUSTED_STATUS}
    rescue Exception => e
      report.call(e)
      1
    end
  end
  lambda do |argv_hex, env_hex|
    ENV.replace(env_hex.map(&decode).each_slice(2).to_h)
    ARGV.replace(argv_hex.map(&decode))
    srand unless seeded
    status = run.call(-> { RubyVM::InstructionSequence.compile_file_prism(${JSON.stringify(SCRIPT_PATH)}).eval })
    while (handler = handlers.pop)
      code = run.call(handler)
      status = code unless code.nil?
    end
    begin
      $stdout.flush
      $stderr.flush
    rescue NoMemoryError
      status = ${MEMORY_EXHAUSTED_STATUS}
    rescue Exception
      nil
    end
    status.is_a?(Integer) ? status : 0
  end
end).call
nil
`;

/**
 * What the boot evaluates once after the definition, with an empty script at SCRIPT_PATH: the
 * bootstrap's whole path runs once, so what it does only the first time (the interpreter's inline
 * and method caches, the parser's and the compiler's first use, lazily built tables) is done in the
 * snapshot and not in every execution. Measured against a snapshot without it: in one process, 10
 * alternating rounds of 100 `puts 1` runs with 4 ms pauses, -0.10 to -0.14 ms per run (faster in 9
 * or 10 of 10 rounds; a run took ~0.6-0.85 ms); over HTTP (benchmarks/dev/measure-ab.ts), p50
 * -0.31 ms pausing 10 ms (faster in 11 of 12 rounds) and -0.24 ms back-to-back (6 of 8). Moving the
 * constant parts into the definition (above) was worth nothing on its own (+0.001 ms, 5 of 10); with
 * the warm-up it was -0.04 ms (7 of 10). It leaves nothing an execution could see: ARGV and
 * ENV are what every execution replaces, the PRNG is reseeded for every execution, the script
 * defines nothing, and the boot collects the garbage before the capture.
 */
export const BOOTSTRAP_WARM_UP = `${BOOTSTRAP_GLOBAL}.call([], [])`;

/**
 * What the host evaluates on a spare, once restored and before its execution (wasm-runner.ts, with
 * only WASI's random_get and clocks to call): takes the prime step out of its global and seeds the
 * PRNG, which the bootstrap then does not do again. ~0.1 ms off each run, mostly a restored
 * instance's first random_get. Never in the snapshot interpreter: every instance would share its seed.
 */
export const BOOTSTRAP_PRIME = `(__p = ${PRIME_GLOBAL}; ${PRIME_GLOBAL} = nil; __p.call; 0)`;

/**
 * What the host evaluates per execution: takes the bootstrap and its prime step out of their
 * globals (the script sees nil there) and runs it with the request's args and env. A spare nobody
 * primed is seeded here.
 */
export function bootstrapCall(args: readonly string[], env: Readonly<Record<string, string>>): string {
  const envPairs = Object.entries(env).flat();
  return `(__b = ${BOOTSTRAP_GLOBAL}; ${BOOTSTRAP_GLOBAL} = nil; ${PRIME_GLOBAL} = nil; __b.call(${hexList(args)}, ${hexList(envPairs)}))`;
}

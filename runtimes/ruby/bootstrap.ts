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

function hex(value: string): string {
  return Buffer.from(value, "utf8").toString("hex");
}

function hexList(values: readonly string[]): string {
  return `[${values.map((v) => `"${hex(v)}"`).join(", ")}]`;
}

/**
 * Ruby source, evaluated once in the snapshot interpreter, that stores the bootstrap lambda in
 * BOOTSTRAP_GLOBAL: parsing and compiling it then happens once per service start instead of once
 * per execution (measured: ~1.5 ms of a ~3.5 ms bootstrap).
 */
export const BOOTSTRAP_DEFINITION = `
${BOOTSTRAP_GLOBAL} = (lambda do |argv_hex, env_hex|
  decode = lambda { |h| [h].pack("H*").force_encoding(Encoding::UTF_8) }
  env = env_hex.map(&decode).each_slice(2).to_h
  ENV.replace(env)
  ARGV.replace(argv_hex.map(&decode))
  Dir.chdir(${JSON.stringify(WORKSPACE)})
  $0 = ${JSON.stringify(SCRIPT_PATH)}
  srand
  handlers = []
  Kernel.send(:define_method, :at_exit) do |&block|
    raise ArgumentError, "called without a block" unless block
    handlers << block
    block
  end
  Kernel.send(:private, :at_exit)
  Kernel.send(:module_function, :at_exit)
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
  status = nil
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
  status = run.call(-> { RubyVM::InstructionSequence.compile_file(${JSON.stringify(SCRIPT_PATH)}).eval })
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
end)
nil
`;

/**
 * What the host evaluates per execution: takes the bootstrap out of its global (the script sees
 * nil there) and runs it with the request's args and env.
 */
export function bootstrapCall(args: readonly string[], env: Readonly<Record<string, string>>): string {
  const envPairs = Object.entries(env).flat();
  return `(__b = ${BOOTSTRAP_GLOBAL}; ${BOOTSTRAP_GLOBAL} = nil; __b.call(${hexList(args)}, ${hexList(envPairs)}))`;
}

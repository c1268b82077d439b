/**
 * How the snapshot interpreter finds libraries. It boots with `--disable-gems` (boot.ts
 * RUBY_INIT_ARGS) and this Ruby, evaluated once before the snapshot, gives back what RubyGems gave a
 * script, without loading RubyGems into every execution's interpreter:
 *
 * - The bundled gems (csv, base64, prime, rexml, matrix, ... : the gem directories that carry a
 *   `lib`) are appended to $LOAD_PATH, after the standard library, so `require "csv"` finds them.
 *   A default gem (json, set, date, ...) has no `lib` there: it is in the standard library already.
 * - `Gem` is autoloaded: the first use of `Gem::Version` (or `require "rubygems"`) loads RubyGems
 *   in that execution only; `defined?(Gem)` still says "constant". `gem "name"` does the same,
 *   then calls RubyGems' own Kernel#gem, which replaced this one.
 * - error_highlight, did_you_mean and syntax_suggest, which ruby loads with RubyGems, are required
 *   here, so error messages read as they do with `ruby main.rb`.
 *
 * Why (measured on the 2-core machine): the boot function's CPU fell from ~710 to ~570 ms (medians of
 * 6 interleaved runs; RubyGems was the largest part of ruby_init) and Ruby's boot is the longest at
 * start; the snapshot holds 23.1 instead of 24.6 MiB; and a library not in the snapshot no longer
 * goes through RubyGems' require (warm in-process p50: `require "set"` ~19 -> ~9.5 ms,
 * `require "csv"` ~215 -> ~175 ms).
 * The cost: the first `Gem` or `gem` of an execution loads RubyGems in it (~390 ms warm in-process;
 * it was loaded already before), once per execution, as every execution is a fresh interpreter.
 */
export const LIBRARY_SETUP = `
require "rbconfig"
Dir.glob(File.join(RbConfig::CONFIG["rubylibprefix"], "gems", RbConfig::CONFIG["ruby_version"], "gems", "*", "lib")).sort.each do |dir|
  $LOAD_PATH << dir
end
autoload :Gem, "rubygems"
module Kernel
  private

  def gem(...)
    require "rubygems"
    gem(...)
  end
end
%w[error_highlight did_you_mean syntax_suggest/core_ext].each do |feature|
  require feature
rescue LoadError
  nil
end
nil
`;

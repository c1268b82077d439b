/**
 * Build step (part of `npm run build`; alone: `npx tsx runtimes/ruby/stdlib-build.ts`): writes
 * runtimes/ruby/build/stdlib.bin, the standard library the Ruby runtime serves to ruby.wasm from the
 * host (stdlib.ts explains why and the format).
 *
 * The files come out of the package's ruby+stdlib.wasm, which wasi-vfs packed them into: one
 * interpreter is booted (sealed, as every other one: ruby-abi.ts) and a short Ruby script writes
 * every entry under RUBY_LIB_DIR to stdout as records (kind, path length, data length, path, data).
 * Entries other than directories and regular files fail the build. ~1 s on the development VM.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareForSnapshots } from "../../wasm/host/snapshot-module.js";
import { createGuestFilesystem } from "../../wasm/host/wasi-workspace.js";
import { rubyPackageVersion, startRuby } from "./boot.js";
import { BUILD_DIRS, encodeStdlib, RUBY_LIB_DIR, RUBY_PACKAGE, STDLIB_FILE, type StdlibEntry } from "./stdlib.js";

const LISTING = `
root = ${JSON.stringify(RUBY_LIB_DIR)}
out = $stdout
out.binmode
Dir.glob("**/*", File::FNM_DOTMATCH, base: root).sort.each do |rel|
  next if rel == "." || rel.end_with?("/.")
  path = File.join(root, rel)
  stat = File.lstat(path)
  if stat.directory?
    kind, data = "D", "".b
  elsif stat.file?
    kind, data = "F", File.binread(path)
  else
    raise "#{path} is a #{stat.ftype}"
  end
  out.write(kind, [rel.bytesize, data.bytesize].pack("NN"), rel.b, data)
end
out.flush
nil
`;

/** Boot ruby+stdlib.wasm and read its embedded library out of it. */
export async function extractStdlib(wasmBytes: Uint8Array): Promise<{ rubyVersion: string; entries: StdlibEntry[] }> {
  const { bytes, freshMemoryIsZero: _, ...layout } = prepareForSnapshots(wasmBytes);
  const module = await WebAssembly.compile(bytes);
  const chunks: Buffer[] = [];
  const errors: Buffer[] = [];
  const sink = (into: Buffer[]) => ({
    write: (chunk: Uint8Array | string) => {
      into.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
    },
    length: 0,
  });
  const fs = createGuestFilesystem({ files: [], maxFilesystemBytes: 0 });
  const { guest, rubyVersion } = startRuby({ ...layout, module }, fs.preopens, {
    stdout: sink(chunks),
    stderr: sink(errors),
  });
  if (guest.evalProtect(LISTING).state !== 0) {
    throw new Error(`listing the embedded standard library failed: ${Buffer.concat(errors).toString()}`);
  }
  return { rubyVersion, entries: parseRecords(Buffer.concat(chunks)) };
}

function parseRecords(out: Buffer): StdlibEntry[] {
  const entries: StdlibEntry[] = [];
  let at = 0;
  while (at < out.byteLength) {
    if (at + 9 > out.byteLength) throw new Error("the listing ended inside a record");
    const kind = String.fromCharCode(out[at] as number);
    const pathBytes = out.readUInt32BE(at + 1);
    const dataBytes = out.readUInt32BE(at + 5);
    at += 9;
    const path = out.toString("utf8", at, at + pathBytes);
    at += pathBytes;
    if (kind === "D") entries.push({ path });
    else if (kind === "F") entries.push({ path, content: new Uint8Array(out.subarray(at, at + dataBytes)) });
    else throw new Error(`unknown record kind ${JSON.stringify(kind)}`);
    at += dataBytes;
  }
  if (at !== out.byteLength) throw new Error("the listing ended inside a record");
  return entries;
}

export async function buildRubyStdlib(
  outDir: string = BUILD_DIRS[0] as string,
): Promise<{ files: number; bytes: number }> {
  const require = createRequire(import.meta.url);
  const wasmPath = require.resolve(`${RUBY_PACKAGE}/dist/ruby+stdlib.wasm`);
  const packageVersion = await rubyPackageVersion();
  const { rubyVersion, entries } = await extractStdlib(new Uint8Array(await readFile(wasmPath)));
  const archive = encodeStdlib({ packageVersion, rubyVersion }, entries);
  await mkdir(outDir, { recursive: true });
  const target = join(outDir, STDLIB_FILE);
  const temp = `${target}.${process.pid}.tmp`;
  await writeFile(temp, archive);
  await rename(temp, target);
  return { files: entries.filter((e) => e.content !== undefined).length, bytes: archive.byteLength };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await buildRubyStdlib();
  process.stdout.write(`runtimes/ruby: wrote build/${STDLIB_FILE} (${report.files} files, ${report.bytes} bytes)\n`);
}

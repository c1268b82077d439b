"""Rebuild the pyc-only stdlib zip made by `make wasm_stdlib`, reproducibly and with guest paths.

Tools/wasm/wasm_assets.py decides which modules ship (its omit lists); this script keeps exactly
its entries but recompiles each one so that:
- code objects name `/usr/local/lib/python3.11/<module>.py` (the guest's prefix), not the build
  machine's source tree, so tracebacks show no build paths;
- every .pyc is an unchecked hash-based pyc (PEP 552): no source mtime inside, nothing to stat;
- zip entries are sorted, dated 1980-01-01 and deflated at level 9: same sources, same bytes;
- build paths in the sources are rewritten by `--path-map OLD=NEW`, so two builds in different
  directories give the same zip. The cross build's sysconfigdata records its directories and flags
  in a pprint-formatted dict, whose line breaks depend on the paths' lengths: it is re-rendered
  from its values after the rewrite, as sysconfig renders it.

Run it with the native build python (same bytecode as the wasm interpreter):
    python3.11 stdlib-zip.py --lib Lib --extra build/lib.wasi-wasm32-3.11 --in python311.zip --out new.zip \
        --path-map /work/pybuild=/build
"""

import argparse
import importlib.util
import pathlib
import pprint
import sys
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

GUEST_LIB = "/usr/local/lib/python3.11"
EPOCH = (1980, 1, 1, 0, 0, 0)


def source_for(entry: str, roots: list[pathlib.Path]) -> pathlib.Path:
    stem = entry[: -len(".pyc")]
    for root in roots:
        candidate = root / f"{stem}.py"
        if candidate.is_file():
            return candidate
    raise SystemExit(f"stdlib-zip: no source for {entry}")


def parse_path_map(text: str) -> tuple[bytes, bytes]:
    old, sep, new = text.partition("=")
    if not sep or not old.startswith("/") or old.endswith("/"):
        raise SystemExit(f"stdlib-zip: --path-map wants /OLD=NEW, got {text!r}")
    return old.encode(), new.encode()


def rewrite_paths(source: bytes, path_map: list[tuple[bytes, bytes]]) -> bytes:
    # Longest prefix first, so a directory inside another one keeps its own mapping.
    for old, new in sorted(path_map, key=lambda pair: -len(pair[0])):
        source = source.replace(old, new)
    return source


def sysconfigdata_source(source: bytes, path_map: list[tuple[bytes, bytes]]) -> bytes:
    namespace: dict = {}
    exec(compile(source, "_sysconfigdata", "exec"), namespace)
    names = sorted(name for name in namespace if not name.startswith("__"))
    if names != ["build_time_vars"]:
        raise SystemExit(f"stdlib-zip: unexpected names in sysconfigdata: {names}")
    values = {
        key: rewrite_paths(value.encode(), path_map).decode() if isinstance(value, str) else value
        for key, value in namespace["build_time_vars"].items()
    }
    # The layout of Lib/sysconfig.py's _generate_posix_vars.
    text = "# system configuration generated and used by the sysconfig module\n"
    text += "build_time_vars = " + pprint.pformat(values) + "\n"
    return text.encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", type=pathlib.Path, required=True)
    parser.add_argument("--extra", type=pathlib.Path, action="append", default=[])
    parser.add_argument("--in", dest="source_zip", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--path-map", action="append", default=[], type=parse_path_map)
    args = parser.parse_args()
    if sys.version_info[:2] != (3, 11):
        raise SystemExit("stdlib-zip: run with the Python 3.11 build interpreter")

    with zipfile.ZipFile(args.source_zip) as original:
        entries = sorted(n for n in original.namelist() if not n.endswith("/"))
    roots = [args.lib, *args.extra]
    rewritten = 0
    with zipfile.ZipFile(args.out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for entry in entries:
            if not entry.endswith(".pyc"):
                raise SystemExit(f"stdlib-zip: unexpected entry {entry}")
            original_source = source_for(entry, roots).read_bytes()
            if entry.startswith("_sysconfigdata_"):
                source = sysconfigdata_source(original_source, args.path_map)
            else:
                source = rewrite_paths(original_source, args.path_map)
            rewritten += source != original_source
            code = compile(source, f"{GUEST_LIB}/{entry[:-1]}", "exec", dont_inherit=True, optimize=0)
            pyc = _code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
            info = zipfile.ZipInfo(entry, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, bytes(pyc), compresslevel=9)
    print(f"stdlib-zip: {len(entries)} modules ({rewritten} with build paths rewritten) -> {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

"""Rebuild the pyc-only stdlib zip made by `make wasm_stdlib`, reproducibly and with guest paths.

Tools/wasm/wasm_assets.py decides which modules ship (its omit lists); this script keeps exactly
its entries but recompiles each one so that:
- code objects name `/usr/local/lib/python3.11/<module>.py` (the guest's prefix), not the build
  machine's source tree, so tracebacks show no build paths;
- every .pyc is an unchecked hash-based pyc (PEP 552): no source mtime inside, nothing to stat;
- zip entries are sorted, dated 1980-01-01 and deflated at level 9: same sources, same bytes.

Run it with the native build python (same bytecode as the wasm interpreter):
    python3.11 stdlib-zip.py --lib Lib --extra build/lib.wasi-wasm32-3.11 --in python311.zip --out new.zip
"""

import argparse
import importlib.util
import pathlib
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", type=pathlib.Path, required=True)
    parser.add_argument("--extra", type=pathlib.Path, action="append", default=[])
    parser.add_argument("--in", dest="source_zip", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    if sys.version_info[:2] != (3, 11):
        raise SystemExit("stdlib-zip: run with the Python 3.11 build interpreter")

    with zipfile.ZipFile(args.source_zip) as original:
        entries = sorted(n for n in original.namelist() if not n.endswith("/"))
    roots = [args.lib, *args.extra]
    with zipfile.ZipFile(args.out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for entry in entries:
            if not entry.endswith(".pyc"):
                raise SystemExit(f"stdlib-zip: unexpected entry {entry}")
            source = source_for(entry, roots).read_bytes()
            code = compile(source, f"{GUEST_LIB}/{entry[:-1]}", "exec", dont_inherit=True, optimize=0)
            pyc = _code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
            info = zipfile.ZipInfo(entry, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, bytes(pyc), compresslevel=9)
    print(f"stdlib-zip: {len(entries)} modules -> {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

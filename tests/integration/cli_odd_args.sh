#!/bin/sh
# Every command against odd arguments: options without their value, values
# out of range or of the wrong kind, empty strings, "--" in odd places,
# option-looking values, 5,000-character values, format strings, invalid
# UTF-8; 1 to 4 of them at a time, drawn from a fixed pseudo-random sequence
# (the same on every run).  Each invocation must:
#  - exit with a documented status (record: 0, 125, 126, 127 or its
#    command's; the others 0, 1 or 2) and say why on stderr when not 0;
#  - leave the database as it was on a usage error (2, record's 125);
#  - never crash, hang, or (under make test-san) trip a sanitizer.
. "$(dirname "$0")/lib.sh"

pm record -q -l base -- sh -c 'sleep 0.1 & wait'
pm record -q -l fail -- sh -c 'exit 3'
cp "$DB" "$T/orig.db"
mkdir "$T/dir"
long=$(printf '%5000s' x | tr ' ' y)
bad_utf8=$(printf '\377\376x')
# Values: none of them names a program on PATH, so record runs nothing but
# `true` and these (which are not found: 127).
vals="'' - -- -1 0 1 3 1e309 99999999999999999999 10q 1.5.5 0x10 nan inf 5ms 1s label: last last~ last~1
      last~x outcome:fail outcome:maybe label:base a-b ZZZZZZ %s%n%x k=v =v k= csv jsonl influx openmetrics
      json remote-write pushgateway http://127.0.0.1:1/api/v1/write http://127.0.0.1:1/metrics/job/x
      https://127.0.0.1:1/write ftp://x /nonexistent/x.db $T/dir LONG BADUTF8"
opts_record="-d -i -p -D -l -t -q --json --commit-interval --push --push-protocol -h --bogus -x"
opts_runs="-d -n -l --json -h --bogus"
opts_show="-d -a --json -h --bogus"
opts_events="--json -k --db -h --bogus"
opts_diff="--json --markdown -n --top --db -h --bogus"
opts_export="-f --format --db --job --instance --no-run-id -h --bogus"
opts_push="-t --to -p --protocol --db --job --instance --no-run-id --batch --no-gzip --cacert --connect-timeout
           --timeout --retries --json -q -h --bogus"
opts_rm="-d -n --dry-run --vacuum -q --json -h --bogus"
opts_prune="-k --keep --older-than -d -n --dry-run --vacuum -q --json -h --bogus"

# ODD_ARGS_SEED and ODD_ARGS_N (per command) for a longer search by hand.
seed=${ODD_ARGS_SEED:-12345}
per=${ODD_ARGS_N:-150}
rnd() { seed=$(( (seed * 1103515245 + 12345) % 2147483648 )); R=$(( seed / 65536 % $1 )); }
pick() { # pick WORDS...: one of them into P
    rnd $#; shift $R; P=$1
    case $P in LONG) P=$long ;; BADUTF8) P=$bad_utf8 ;; "''") P= ;; esac
}
sum() { sqlite3 -batch "$1" .sha3sum; }
orig_sum=$(sum "$T/orig.db")

n=0
for c in record runs show events diff export push rm prune; do
    eval "opts=\$opts_$c"
    i=0
    while [ $i -lt "$per" ]; do
        i=$((i + 1))
        set --
        rnd 4; k=$((R + 1))
        while [ $k -gt 0 ]; do
            k=$((k - 1))
            rnd 3
            # shellcheck disable=SC2086
            if [ $R -eq 0 ]; then pick $vals; else pick $opts; fi
            set -- "$@" "$P"
        done
        case $c in
        record)
            # A bounded recording: --duration or a command that ends at once.
            # Durations among the values are at most 1 s.
            rnd 2
            if [ $R -eq 0 ]; then set -- "$@" -- true; else set -- -D 50ms "$@"; fi ;;
        push) set -- "$@" --connect-timeout 1s --timeout 2s --retries 0 ;;
        esac
        cp "$T/orig.db" "$T/odd.db"
        err=$(PRESSMON_DB="$T/odd.db" timeout 20 "$PRESSMON" "$c" "$@" 2>&1 >/dev/null)
        rc=$?
        n=$((n + 1))
        what="pressmon $c $(printf '%s ' "$@" | cut -c1-200)"
        case "$err" in
        *"runtime error"* | *Sanitizer*) fail "$what: $err" ;;
        esac
        [ $rc -ne 124 ] || fail "$what: still running after 20 s"
        case $c:$rc in
        record:0 | record:125 | record:126 | record:127 | *:0 | *:1 | *:2) ;;
        *) fail "$what: exit $rc: $err" ;;
        esac
        [ $rc -eq 0 ] || [ -n "$err" ] || fail "$what: exit $rc without a message"
        if [ $rc -eq 2 ] || { [ $c = record ] && [ $rc -eq 125 ]; }; then
            [ "$(sum "$T/odd.db")" = "$orig_sum" ] || fail "$what: usage error (exit $rc) but the database changed"
        fi
    done
done
expect_eq "$n" $((9 * per)) "invocations"
echo "$n invocations with odd arguments, all answered"

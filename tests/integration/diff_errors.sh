#!/bin/sh
# Every diff error gives a clear message and a non-zero exit: unknown run,
# ambiguous prefix (candidates listed), empty group, bad usage; runs from
# different hosts and runs still recording are compared with a note.
set -u
: "${PRESSMON:?set PRESSMON to the pressmon binary}"
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI is needed to edit run rows" >&2; exit 77; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
db=$dir/t.db
for i in 1 2 3; do
    "$PRESSMON" record --db "$db" --quiet --label "r$i" -- sleep 0.3 || { echo "record failed"; exit 1; }
done
fail=0
expect() { # expect EXIT PATTERN -- ARGS...
    want=$1 pat=$2; shift 3
    "$PRESSMON" diff --db "$db" "$@" >"$dir/out" 2>"$dir/err"; rc=$?
    if [ $rc -ne "$want" ] || ! grep -q -- "$pat" "$dir/err"; then
        echo "FAIL: diff $* -> exit $rc (want $want), stderr:"; cat "$dir/err"; fail=1
    fi
}
expect 1 "no run 'ZZZZZZ'" -- ZZZZZZ last
# every id starts with the same time prefix: a 2-character prefix is ambiguous
pre=$(sqlite3 "$db" "select substr(uid,1,2) from runs limit 1")
expect 1 "ambiguous" -- "$pre" last
uid1=$(sqlite3 "$db" "select uid from runs order by id limit 1")
expect 1 "$uid1" -- "$pre" last   # the candidates are listed
expect 1 "has no runs" -- outcome:fail outcome:pass
expect 1 "has no runs" -- label:nothing last
expect 2 "outcome:fail and outcome:pass" -- outcome:maybe last
expect 2 "last~N" -- last~x last
expect 2 "give a label" -- last label:
expect 2 "not a run id" -- last "a-b"
expect 2 "two runs" -- last
expect 2 "choose one" -- --json --markdown last~1 last
expect 2 "--top" -- --top x last~1 last
"$PRESSMON" diff --db "$dir/none.db" last~1 last >/dev/null 2>&1 && { echo "FAIL: missing db accepted"; fail=1; }

# different hosts and still recording: compared, and said
sqlite3 "$db" "insert into hosts(hostname, os) values ('otherhost', 'linux');
               update runs set host_id = (select id from hosts where hostname = 'otherhost'),
                      state = 'recording', recorder_pid = $$ where label = 'r3';" || exit 1
"$PRESSMON" diff --db "$db" label:r3 label:r1 >"$dir/out" 2>"$dir/err"; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: diff across hosts exit $rc"; cat "$dir/err"; fail=1; }
grep -q "different hosts" "$dir/err" || { echo "FAIL: no different-hosts note"; cat "$dir/err"; fail=1; }
grep -q "still recording" "$dir/err" || { echo "FAIL: no still-recording note"; cat "$dir/err"; fail=1; }
"$PRESSMON" diff --db "$db" label:r3 label:r1 --json 2>/dev/null | grep -q '"warnings"' || { echo "FAIL: no warnings in JSON"; fail=1; }
[ $fail -eq 0 ] && echo ok
exit $fail

# runs and show, with every selector and --json.
. "$(dirname "$0")/lib.sh"

pm record -q -l first -t ci=yes -- sh -c 'exit 1'
pm record -q -l second -- sh -c 'kill -9 $$'
pm record -q -- true
pm runs;           expect_eq "$RC" 0 "runs"
expect_eq "$(echo "$OUT" | wc -l)" 4 "header + 3 runs"
expect_contains "$(echo "$OUT" | sed -n 3p)" "137 SIGKILL" "newest first, signal shown"
pm runs --json;    expect_eq "$RC" 0 "runs --json"
# JSON checked with SQLite's own JSON functions (no extra tools needed)
js() { sqlite3 -batch -noheader :memory: "select $1 from (select readfile('$T/out') as j)"; }
expect_eq "$(js "json_array_length(j) || ' ' || json_extract(j, '\$[2].label') || ' ' || json_extract(j, '\$[1].signal')")" "3 first SIGKILL" "runs json"
uid=$(q "select uid from runs where label='first'")
for sel in "$uid" "$(echo "$uid" | cut -c1-14)" "$(echo "$uid" | tr A-Z a-z)" last~2 label:first; do
    pm show "$sel"; expect_eq "$RC" 0 "show $sel"
    expect_contains "$OUT" "$uid" "show $sel finds the run"
done
pm show last --json; expect_eq "$RC" 0 "show --json"
expect_eq "$(js "json_extract(j, '\$.exit_code') || ' ' || (json_extract(j, '\$.sampling.samples') > 0) || ' ' || (json_array_length(j, '\$.metrics') > 10)")" "0 1 1" "show json"
pm show label:first; expect_contains "$OUT" "ci=yes" "tags shown"
expect_contains "$OUT" "mem_available" "metric summary"
pm show NOPE;      expect_eq "$RC" 1 "unknown run"
expect_contains "$ERR" "NOPE" "names the unknown run"
pm show last~9;    expect_eq "$RC" 1 "last~9 of 3 runs"
pm show label:zzz; expect_eq "$RC" 1 "unknown label"
# A selector that cannot name a run is a usage error (2), as in rm.
pm show last~x;    expect_eq "$RC" 2 "malformed last~N"
expect_contains "$ERR" "last~N" "says what a selector looks like"
pm show outcome:fail; expect_eq "$RC" 2 "a group where one run is wanted"
pm events a-b;     expect_eq "$RC" 2 "not a run id (events)"
# Own CPU over a run of a few ms is mostly starting the threads: given as a
# time (a share would read ~100%); over a longer run as a share of a core.
pm record -l short -- true
printf '%s\n' "$ERR" | grep -Eq '· own CPU [0-9]+\.[0-9] ms$' || fail "own CPU of a short run as a time: $ERR"
pm show label:short
printf '%s\n' "$OUT" | grep -Eq '^sampling .* own CPU [0-9]+\.[0-9] ms$' || fail "show: own CPU of a short run: $OUT"
pm record -l long --duration 1100ms
printf '%s\n' "$ERR" | grep -Eq '· own CPU [0-9]+\.[0-9]{2}%$' || fail "own CPU of a 1.1 s run as a share: $ERR"
# A run being recorded: its duration so far, and no lateness or own CPU
# (written when it ends) in place of zeros.
"$PRESSMON" record -q -l live -- sleep 4 & lp=$!
sleep 2
pm show label:live
kill -0 $lp 2>/dev/null || fail "the recording ended before show ran: the test proves nothing"
expect_eq "$RC" 0 "show a live run"
printf '%s\n' "$OUT" | grep -Eq '^started .* duration (0\.[5-9]|[1-3]\.[0-9]) s so far' || fail "show: a live run's duration so far: $OUT"
expect_contains "$OUT" "lateness and own CPU when the run ends" "show: no made-up lateness for a live run"
case $OUT in *"lateness p50"*) fail "show printed a live run's lateness: $OUT" ;; esac
wait $lp
expect_eq "$?" 0 "the live recording's status"
echo ok

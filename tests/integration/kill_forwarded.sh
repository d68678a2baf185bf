# A kill made by a signal pressmon forwarded is put on the account of the
# process that sent it to pressmon, and said to be forwarded: in the run
# summary, `show`, `events` and their --json.  Needs root (tracefs).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "kill attribution needs root (tracefs); running as uid $(id -u)"
command -v python3 >/dev/null || skip "python3 not installed"
# the real sender: kill(1) under a distinctive name
cp "$(command -v kill)" "$T/ci-runner" 2>/dev/null || cp /bin/kill "$T/ci-runner" || skip "no kill(1) binary"
"$PRESSMON" record -l fwd -- sleep 5 2>"$T/summary" & p=$!
sleep 0.5
"$T/ci-runner" -TERM $p & k=$!
wait $k
wait $p; rc=$?
expect_eq "$rc" 143 "the command died of the forwarded SIGTERM"
attr=$(q "select attribution from runs where label='fwd'")
[ "$attr" = on ] || skip "kill attribution is off here: $attr"

sum=$(cat "$T/summary")
expect_contains "$sum" "SIGTERM by ci-runner[$k] (forwarded by pressmon)" "record's summary"
case "$sum" in *"by pressmon["*) fail "the summary blames pressmon: $sum" ;; esac
pm show last
expect_contains "$OUT" "SIGTERM by ci-runner[$k] (forwarded by pressmon)" "show"
pm events last
expect_contains "$OUT" "killed by SIGTERM from ci-runner[$k] (outside tree; forwarded by pressmon[$p])" "events: the exit"
expect_contains "$OUT" "ci-runner[$k] -> sleep[" "events: the signal's sender"
expect_contains "$OUT" "forwarded by pressmon[$p]" "events: the signal was forwarded"
expect_eq "$(q "select killer_pid || ' ' || killer_comm || ' ' || kill_cause || ' ' || forwarded_by
               from procs p join runs r on r.id = p.run_id where r.label = 'fwd' and p.signal = 15")" \
    "$k ci-runner signal outside-tree $p" "procs row"
pm events last --json
echo "$OUT" | python3 -c "
import json, sys
ev = json.load(sys.stdin)
ex = [e for e in ev if e['kind'] == 'exit' and e.get('signal') == 15][0]
sg = [e for e in ev if e['kind'] == 'signal' and e.get('signal') == 15][0]
assert ex['killer_pid'] == $k and ex['killer_comm'] == 'ci-runner', ex
assert ex['kill_cause'] == 'signal outside-tree' and ex['forwarded_by_pid'] == $p, ex
assert sg['sender_pid'] == $k and sg['sender_comm'] == 'ci-runner' and sg['forwarded_by_pid'] == $p, sg
" || fail "events --json: $OUT"

echo ok

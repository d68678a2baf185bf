# pressmon killed mid-run: the database stays sound, the run becomes aborted.
. "$(dirname "$0")/lib.sh"

"$PRESSMON" record -q -l crash -- sleep 30 & p=$!
sleep 1.2
child=$(pgrep -P $p sleep)
kill -KILL $p; wait $p 2>/dev/null
[ -n "$child" ] && kill "$child" 2>/dev/null
expect_eq "$(q "pragma integrity_check")" ok "integrity after SIGKILL"
expect_eq "$(q "select state from runs where label='crash'")" recording "run left recording"
expect_ge "$(q "select count(*) from samples")" 20 "committed samples survive"
# The next pressmon that opens the database marks it aborted: a reader
# (here `runs`) as well as a recorder.  Its outcome is unknown: the
# command may have gone on and passed, so it joins neither outcome group.
pm runs
expect_eq "$RC" 0 "runs after the crash"
expect_eq "$(q "select state from runs where label='crash'")" aborted "marked aborted by runs"
expect_contains "$OUT" "aborted" "runs lists it as aborted"
expect_eq "$(q "select outcome is null from runs where label='crash'")" 1 "an aborted run has no outcome"
expect_ge "$(q "select samples from runs where label='crash'")" 20 "aborted run keeps its sample count"
pm show label:crash
expect_eq "$RC" 0 "show an aborted run"
expect_contains "$OUT" "aborted" "show says aborted"
pm diff outcome:fail outcome:pass
expect_eq "$RC" 1 "no run has an outcome: the groups are empty ($ERR)"
# A recorder that opens the database marks one too.
"$PRESSMON" record -q -l crash2 -- sleep 30 & p=$!
sleep 1.2
child=$(pgrep -P $p sleep)
kill -KILL $p; wait $p 2>/dev/null
[ -n "$child" ] && kill "$child" 2>/dev/null
expect_eq "$(q "select state from runs where label='crash2'")" recording "second run left recording"
pm record -q -- true
expect_eq "$(q "select state from runs where label='crash2'")" aborted "marked aborted by the next record"
echo ok

#!/bin/sh
# Descendants still alive when the command exits are reported: on stderr
# ("N descendants still running") and in runs.notes.
. "$(dirname "$0")/lib.sh"

pm record -l left -- sh -c '
  sh -c "sleep 30 & sleep 30 & echo \$! > last.pid; exit 0"
  exit 0'
expect_eq "$RC" 0 "command exit status"
run=$(q "select id from runs where label='left'")
# clean up the sleeps now that pressmon has let them go
for p in $(q "select pid from procs where run_id=$run and comm='sleep'"); do kill "$p" 2>/dev/null; done
expect_contains "$ERR" "2 descendants still running" "stderr"
expect_contains "$(q "select notes from runs where id=$run")" "2 descendants still running when the command exited" "notes"
"$PRESSMON" show last > "$T/show" || fail "show"
grep -q "notes .*2 descendants still running" "$T/show" || fail "show: $(cat "$T/show")"

# and none when everything ended
pm record -q -l clean -- sh -c 'sleep 0.1 & wait'
expect_eq "$RC" 0 "clean exit status"
n=$(q "select count(*) from runs where label='clean' and notes like '%still running%'")
expect_eq "$n" 0 "no note when no descendant is left"
echo ok

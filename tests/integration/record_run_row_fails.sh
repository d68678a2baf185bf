# The run's row is written while the command starts (cli/record.c).  When
# that write fails after the database opened fine, the command still runs
# to its end, unrecorded, its status comes back, and pressmon says why
# once.  A trigger that refuses new runs makes the failure certain.
. "$(dirname "$0")/lib.sh"

pm record -q -- true
expect_eq "$RC" 0 "first run"
q "CREATE TRIGGER no_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'runs are frozen'); END"
pm record -- sh -c 'sleep 0.3; echo ran; exit 3'
expect_eq "$RC" 3 "the command's status"
expect_eq "$OUT" ran "the command ran to its end"
expect_contains "$ERR" "cannot write the run: $DB: creating the run: runs are frozen; the command runs unrecorded" "what happened"
expect_contains "$ERR" "(not recorded) exit 3" "the summary says so"
expect_eq "$(printf '%s\n' "$ERR" | grep -c 'cannot write')" 1 "said once"
expect_eq "$(q 'select count(*) from runs')" 1 "no second run"
expect_eq "$(q 'select count(*) from samples where run_id not in (select id from runs)')" 0 "no orphan samples"
expect_eq "$(q 'pragma integrity_check')" ok "integrity"
echo ok

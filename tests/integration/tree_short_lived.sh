#!/bin/sh
# 200 short-lived processes (fork+exit in a loop, three levels below the
# command) are all recorded with their exit statuses when the proc
# connector follows the tree: 8 level-1 shells (exit 0) each run 4 level-2
# shells (exit 1) one after the other, each of which runs 5 level-3 shells
# exiting 2..6 one after the other.
. "$(dirname "$0")/lib.sh"

pm record -q -l short -- sh -c '
  for a in 1 2 3 4 5 6 7 8; do
    sh -c "for b in 1 2 3 4; do sh -c \"for c in 2 3 4 5 6; do sh -c \\\"exit \\\$c\\\"; done; exit 1\"; done; exit 0"
  done
  exit 0'
expect_eq "$RC" 0 "command exit status"
run=$(q "select id from runs where label='short'")
mech=$(q "select tree_mechanism from runs where id=$run")
[ "$mech" = proc_connector ] || skip "the tree was followed by '$mech', not the proc connector: short-lived processes are not all seen"
root=$(q "select pid from procs where run_id=$run and start_ns=0")
expect_eq "$(q "select count(*) from procs where run_id=$run and pid != $root")" 200 "descendants recorded"
expect_eq "$(q "select count(*) from procs where run_id=$run and (exit_code is null or status_src='unknown')")" 0 \
    "processes without an exit status"
expect_eq "$(q "select count(*) from procs where run_id=$run and end_ns is null")" 0 "processes without an end"
expect_eq "$(q "select count(*) from procs where run_id=$run and pid != $root and exit_code=0")" 8 "level 1 (exit 0)"
expect_eq "$(q "select count(*) from procs where run_id=$run and exit_code=1")" 32 "level 2 (exit 1)"
for c in 2 3 4 5 6; do
    expect_eq "$(q "select count(*) from procs where run_id=$run and exit_code=$c")" 32 "level 3 exit $c"
done
# every level-3 process's parent is a level-2 process (depth is kept)
expect_eq "$(q "select count(*) from procs p where run_id=$run and exit_code between 2 and 6 and
    (select exit_code from procs q where q.run_id=$run and q.pid=p.ppid) != 1")" 0 "level-3 parents"
"$PRESSMON" show last > "$T/show" || fail "show"
grep -q "followed by proc_connector" "$T/show" || fail "show does not name the mechanism: $(cat "$T/show")"
echo ok

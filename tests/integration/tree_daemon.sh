#!/bin/sh
# A double-forked daemon outlives its parent and exits with a known code
# while the command is still running: pressmon, the child subreaper, still
# records its exit code (whatever follows the tree).
. "$(dirname "$0")/lib.sh"

pm record -q -l daemon -- sh -c '
  sh -c "( sleep 0.3; exit 42 ) & echo \$! > daemon.pid; exit 0"
  sleep 1.2
  exit 7'
expect_eq "$RC" 7 "command exit status"
run=$(q "select id from runs where label='daemon'")
d=$(cat daemon.pid)
expect_eq "$(q "select exit_code from procs where run_id=$run and pid=$d")" 42 "daemon exit code"
# its parent exited first (it was orphaned), and it ended before the command
parent=$(q "select ppid from procs where run_id=$run and pid=$d")
root=$(q "select pid from procs where run_id=$run and start_ns=0")
[ "$parent" != "$root" ] || fail "the daemon's parent is the command itself: not a double fork"
expect_eq "$(q "select exit_code from procs where run_id=$run and pid=$parent")" 0 "intermediate parent exit"
expect_eq "$(q "select (select end_ns from procs where run_id=$run and pid=$parent) <
                       (select end_ns from procs where run_id=$run and pid=$d)")" 1 "parent ended before the daemon"
expect_eq "$(q "select (select end_ns from procs where run_id=$run and pid=$d) <
                       (select end_ns from procs where run_id=$run and pid=$root)")" 1 "daemon ended before the command"
echo ok

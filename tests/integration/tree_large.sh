# A tree of 400 live processes under a login shell's soft limit of 1024
# open fds: pressmon keeps 5 fds per process, so it must raise its own
# limit (and only its own) to sample them all from the start.
. "$(dirname "$0")/lib.sh"

hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge 2400 ] || skip "hard fd limit $hard: too low to hold 400 processes"
ulimit -Sn 1024 || fail "cannot lower the soft fd limit"
pm record -q -l big -p 40ms -- sh -c '
  ulimit -Sn > child-limit
  i=0; while [ $i -lt 400 ]; do sleep 2 & i=$((i+1)); done; wait'
expect_eq "$RC" 0 "tree exits 0"
expect_eq "$(cat child-limit)" 1024 "the command keeps the fd limit it was given"
run=$(q "select id from runs where label='big'")
expect_ge "$(q "select count(*) from procs where run_id=$run and comm='sleep'")" 400 "sleeps recorded"
# Each sleep's first sample comes within a second of its start (at 40 ms
# cadence; with 1024 fds the last ~200 waited until the first ones exited).
late=$(q "select count(*) from procs p where run_id=$run and comm='sleep' and
          coalesce((select min(t_ns) from proc_samples s where s.run_id=$run and s.pid=p.pid), 1e18)
          - p.start_ns > 1000000000")
expect_eq "$late" 0 "sleeps first sampled more than 1 s after they started"
echo ok

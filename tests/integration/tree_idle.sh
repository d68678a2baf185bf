# A process that sleeps and then computes: while it sleeps pressmon reads
# only its run time and size (prochist.h); once it runs, it is read in full
# at every process sample again, so its CPU shows up at 40 ms steps, not
# at the once-a-second full reading of an idle process.
. "$(dirname "$0")/lib.sh"

pm record -q -l idle -p 40ms -- sh -c 'sleep 1; i=0; while [ $i -lt 600000 ]; do i=$((i+1)); done; sleep 0.5'
expect_eq "$RC" 0 "exits 0"
run=$(q "select id from runs where label='idle'")
root=$(q "select min(pid) from procs where run_id=$run")
busy=$(q "select count(*) from proc_samples where run_id=$run and pid=$root and cpu_user_us + cpu_system_us > 0")
expect_ge "$busy" 6 "samples with CPU while the shell computes"
# The whole ~0.6 s of computing is counted: deltas add up.
cpu=$(q "select sum(cpu_user_us + cpu_system_us) from proc_samples where run_id=$run and pid=$root")
expect_ge "$cpu" 300000 "CPU us of the shell"
# The sleeping shell (the first second) adds no rows: only the first one.
quiet=$(q "select count(*) from proc_samples where run_id=$run and pid=$root and t_ns between 200000000 and 900000000")
expect_eq "$quiet" 0 "rows while the shell sleeps"
echo ok

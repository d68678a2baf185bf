# Sampling: a plausible count, the first sample at t=0, the last at exit.
. "$(dirname "$0")/lib.sh"

pm record -q -i 10ms -- sleep 1
expect_eq "$RC" 0 "sleep 1"
n=$(q "select samples from runs")
expect_ge "$n" 50 "samples in 1 s at 10 ms (loose lower bound)"
expect_eq "$(q "select count(*) from samples")" "$n" "run.samples matches the rows"
first=$(q "select min(t_ns) from samples")
[ "$first" -lt 10000000 ] || fail "first sample at $first ns, want < one interval"
gap=$(q "select duration_ns - max(t_ns) from runs join samples on samples.run_id = runs.id")
[ "$gap" -lt 50000000 ] || fail "last sample $gap ns before the end"
# Memory and CPU columns are filled; macOS-only ones stay NULL here.
expect_eq "$(q "select count(*) from samples where mem_available_kb is null")" 0 "mem_available always present"
expect_eq "$(q "select count(*) from samples where mem_pressure_level is not null")" 0 "no macOS column on Linux"
# /proc/stat is read every 40 ms (record_cadence.sh): a quarter of the rows.
expect_ge "$(q "select count(cpu_idle_us) from samples")" $((n / 4 - 2)) "cpu counters after the first sample"
if cat /proc/pressure/memory >/dev/null 2>&1; then
    expect_ge "$(q "select count(psi_mem_some_us) from samples")" $((n - 1)) "memory pressure on every row after the first"
fi
q "select late_p50_ns, late_p99_ns, self_cpu_ns from runs" | grep -q '^[0-9]*|[0-9]*|[0-9]*$' || fail "sampling quality stored"

# A system-only recording for a fixed duration.
pm record -q --duration 500ms -l sys
expect_eq "$RC" 0 "system-only exit"
expect_ge "$(q "select samples from runs where label='sys'")" 25 "system-only samples"
expect_eq "$(q "select command from runs where label='sys'")" "[]" "no command"

# Ctrl-C-like ending of a system-only recording: SIGINT from another process.
# (A background job starts with SIGINT ignored: give it the default back.)
env --default-signal=INT "$PRESSMON" record -q --duration 30s -l intr & p=$!
sleep 0.5; kill -INT $p; wait $p; rc=$?
expect_eq "$rc" 0 "interrupted system recording exits 0"
expect_eq "$(q "select state from runs where label='intr'")" done "interrupted run is done"
expect_contains "$(q "select notes from runs where label='intr'")" "interrupted" "the run says it was interrupted"

# A gap: pressmon stopped for 300 ms misses ~30 ticks; that is counted and
# becomes a sampler_gap event, and the samples keep their real timestamps.
"$PRESSMON" record -q -l gap -- sleep 1.5 & p=$!
sleep 0.5; kill -STOP $p; sleep 0.3; kill -CONT $p; wait $p
expect_ge "$(q "select missed_ticks from runs where label='gap'")" 15 "missed ticks counted"
expect_ge "$(q "select count(*) from events e join runs r on r.id = e.run_id where r.label='gap' and kind='sampler_gap'")" 1 "gap event"
big=$(q "select max(t_ns - prev) from (select t_ns, lag(t_ns) over (order by t_ns) prev from samples s join runs r on r.id = s.run_id where r.label='gap')")
expect_ge "$big" 200000000 "the hole is visible in the timestamps"
echo ok

# Slow sources on their own cadence (sampler/linux/sys_linux.c): at 10 ms,
# /proc/vmstat is read every 10th tick (>= 100 ms apart), /proc/stat every
# 4th (>= 40 ms) and /proc/loadavg once a second; their columns are NULL in between, the first and the last
# sample read everything, and `pressmon show` divides each vmstat delta by
# the time since the previous vmstat read (~100 ms), not by one tick.
. "$(dirname "$0")/lib.sh"

[ -r /proc/vmstat ] || skip "no /proc/vmstat: nothing to pace"
vm0=$(awk '$1 == "pgfault" { print $2 }' /proc/vmstat)
# A workload that faults: ~400 short-lived processes over ~2 s.
pm record -q -i 10ms -- sh -c 'end=$(($(date +%s%N) + 2000000000)); while [ $(date +%s%N) -lt $end ]; do /bin/true; done'
vm1=$(awk '$1 == "pgfault" { print $2 }' /proc/vmstat)
expect_eq "$RC" 0 "the workload"

n=$(q "select count(*) from samples")
nvm=$(q "select count(vm_pgfault) from samples")
nload=$(q "select count(load1_milli) from samples")
dur_s=$(q "select (max(t_ns) - min(t_ns)) / 1000000000 from samples")
expect_ge "$n" 150 "samples in ~2 s at 10 ms"
# ~1/10 of the rows (the first has no delta yet; the last reads it again).
[ $((nvm * 100 / n)) -ge 8 ] && [ $((nvm * 100 / n)) -le 13 ] || fail "vm_pgfault on $nvm of $n rows, want ~1/10"
expect_eq "$(q "select count(vm_pgfault) = count(io_read_kb) and count(vm_pgfault) = count(vm_oom_kill) from samples")" 1 \
    "every vmstat column on the same rows"
# loadavg: the first row, one per second, the last row (~1/100 of the rows).
[ "$nload" -ge "$dur_s" ] && [ "$nload" -le $((dur_s + 3)) ] || fail "load1 on $nload rows in ${dur_s} s, want one a second"
expect_eq "$(q "select load1_milli is not null and mem_available_kb is not null from samples order by t_ns limit 1")" 1 \
    "the first sample reads every source"
expect_eq "$(q "select vm_pgfault is not null and load1_milli is not null from samples order by t_ns desc limit 1")" 1 \
    "the last sample reads every source"
# /proc/stat: every 4th tick (>= 40 ms apart), its gauges on the same rows.
nst=$(q "select count(cpu_user_us) from samples")
[ $((nst * 100 / n)) -ge 21 ] && [ $((nst * 100 / n)) -le 30 ] || fail "cpu_user_us on $nst of $n rows, want ~1/4"
expect_eq "$(q "select count(procs_running) - 1 = count(cpu_user_us) and count(cpu_user_us) = count(ctxt) from samples")" 1 \
    "every /proc/stat column on the same rows (the first row has gauges but no deltas yet)"
stmed=$(q "select g from (select t_ns - lag(t_ns) over (order by t_ns) g from samples where cpu_user_us is not null
        and t_ns < (select max(t_ns) from samples)) where g is not null order by g limit 1 offset (
        select count(cpu_user_us) / 2 from samples)")
[ "$stmed" -ge 37000000 ] && [ "$stmed" -le 50000000 ] || fail "median gap between /proc/stat reads $stmed ns, want ~40 ms"
# CPU time adds up: user+system+idle+iowait+steal over the run is the
# wall time times the CPUs, within 10% (a per-tick mistake would be 4x off).
ncpu=$(getconf _NPROCESSORS_ONLN)
cpu_ms=$(q "select (sum(cpu_user_us) + sum(cpu_system_us) + sum(cpu_idle_us) + sum(cpu_iowait_us) + sum(coalesce(cpu_steal_us, 0))) / 1000 from samples")
span0=$(q "select (max(t_ns) - min(t_ns)) / 1000000 from samples")
[ $((cpu_ms * 100 / (span0 * ncpu))) -ge 85 ] && [ $((cpu_ms * 100 / (span0 * ncpu))) -le 115 ] ||
    fail "CPU time $cpu_ms ms over $span0 ms on $ncpu CPUs"
# vmstat reads are paced by the tick deadlines: the typical gap is 100 ms
# (10 ticks), never much less.
med=$(q "select g from (select t_ns - lag(t_ns) over (order by t_ns) g from samples where vm_pgfault is not null
        and t_ns < (select max(t_ns) from samples)) where g is not null order by g limit 1 offset (
        select count(vm_pgfault) / 2 from samples)")
[ "$med" -ge 95000000 ] && [ "$med" -le 120000000 ] || fail "median gap between vmstat reads $med ns, want ~100 ms"

# show's fault rate is the true one: its mean over the ~100 ms intervals
# matches the total faults over the recorded time (a per-tick division
# would read ~10x high), and the total is what the kernel counted around
# the run (minus pressmon's own start and exit, outside the samples).
pm show --json last
expect_eq "$RC" 0 "show --json"
show_mean=$(printf '%s' "$OUT" | jq '.metrics[] | select(.name == "vm_pgfault") | .mean | floor')
total=$(q "select sum(vm_pgfault) from samples")
span_ms=$(q "select (max(t_ns) - min(t_ns)) / 1000000 from samples")
true_rate=$((total * 1000 / span_ms))
expect_ge "$true_rate" 1000 "a faulting workload (faults/s)"
[ $((show_mean * 100 / true_rate)) -ge 85 ] && [ $((show_mean * 100 / true_rate)) -le 115 ] ||
    fail "show: vm_pgfault mean $show_mean/s, want ~$true_rate/s (total $total over $span_ms ms)"
outside=$((vm1 - vm0))
[ "$total" -le "$outside" ] && [ $((total * 2)) -ge "$outside" ] ||
    fail "recorded $total faults, the kernel counted $outside around the whole run"
# sample_rates: each rate times the time since the previous vmstat read
# gives back the stored delta.
bad=$(q "select count(*) from (select s.vm_pgfault d, r.vm_page_faults_total_per_s rate, s.t_ns - coalesce(
        max(case when s.vm_pgfault is not null then s.t_ns end) over (order by s.t_ns rows between unbounded preceding
        and 1 preceding), min(s.t_ns) over ()) dt from samples s join sample_rates r using (run_id, t_ns))
        where d is not null and abs(rate * dt / 1e9 - d) > 0.01")
expect_eq "$bad" 0 "sample_rates rows whose rate is not delta / time since the previous read"
echo ok

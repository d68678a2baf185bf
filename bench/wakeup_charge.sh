#!/bin/sh
# What the kernel charges a thread per timer wakeup, split in two
# (docs/BENCHMARKS.md "## record"): the time between switching the thread
# in and out, and what it is charged beyond that.  The scheduler starts a
# woken thread's clock at the wakeup (in the timer interrupt, on the idle
# CPU), not when it is switched in: the rest of the interrupt and the
# CPU's way out of idle are charged to the thread, and on a nested VM that
# is half of a wakeup.  Traced with sched_switch and sched_stat_runtime in
# a tracefs instance of its own, for the bare timer (bench_timer) and for
# pressmon recording the system at 100 Hz, run at the same time.
#   bench/wakeup_charge.sh [SECONDS] [PRESSMON]     (root, tracefs)
set -eu
S=${1:-5}
P=$(realpath "${2:-build/pressmon}")
B=$(dirname "$P")/bench/bench_timer
TR=/sys/kernel/tracing
[ -d $TR/instances ] || TR=/sys/kernel/debug/tracing
[ -w $TR/instances ] || { echo "wakeup_charge: needs root and tracefs"; exit 1; }
d=$(mktemp -d)
inst=$TR/instances/pm-charge-$$
cleanup() { [ -d "$inst" ] && rmdir "$inst"; rm -rf "$d"; }
trap cleanup EXIT
"$B" 100 $((S + 3)) >"$d/timer.out" &
bt=$!
"$P" record -q --db "$d/c.db" --duration $((S + 3))s &
pm=$!
sleep 1
{ echo bench_timer $(ls /proc/$bt/task); echo pressmon $(ls /proc/$pm/task); } >"$d/tids"
# Only these threads' events, so that a busy machine's switches do not
# overwrite them in the buffer.
sw=; rt=
for t in $(cut -d' ' -f2- "$d/tids"); do
    sw="$sw${sw:+ || }prev_pid == $t || next_pid == $t"
    rt="$rt${rt:+ || }pid == $t"
done
mkdir "$inst"
echo 4096 >"$inst/buffer_size_kb"
echo "$sw" >"$inst/events/sched/sched_switch/filter"
echo "$rt" >"$inst/events/sched/sched_stat_runtime/filter"
echo 1 >"$inst/events/sched/sched_switch/enable"
echo 1 >"$inst/events/sched/sched_stat_runtime/enable"
sleep "$S"
echo 0 >"$inst/tracing_on"
cat "$inst/trace" >"$d/trace"
wait $bt $pm
# A slice is counted from a switch-in to the next switch-out of the thread,
# with the runtime charged in between (the last charge comes at the
# switch-out).  Slices without a traced switch-in are left out: on this
# VM's kernel a switch from CPU 1's idle task is not traced.
awk -v S="$S" '
FILENAME == ARGV[1] { for (i = 2; i <= NF; i++) owner[$i] = $1; next }
/LOST/ { lost++ }
/sched_switch:|sched_stat_runtime:/ {
    for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+[.][0-9]+:$/) { t = substr($i, 1, length($i) - 1) * 1e9; break }
    if ($0 ~ /sched_stat_runtime:/) {
        match($0, / pid=[0-9]+/); tid = substr($0, RSTART + 5, RLENGTH - 5)
        match($0, /runtime=[0-9]+/); r = substr($0, RSTART + 8, RLENGTH - 8)
        if (tid in owner) { total[tid] += r; acc[tid] += r }
        next
    }
    match($0, /prev_pid=[0-9]+/); prev = substr($0, RSTART + 9, RLENGTH - 9)
    match($0, /next_pid=[0-9]+/); nxt = substr($0, RSTART + 9, RLENGTH - 9)
    if (prev in owner) {
        if (prev in tin) { span[prev] += t - tin[prev]; rt[prev] += acc[prev]; n[prev]++ }
        delete tin[prev]; acc[prev] = 0
    }
    if (nxt in owner) { tin[nxt] = t; acc[nxt] = 0 }
}
END {
    if (lost) printf "(%d lines of lost events: figures unreliable)\n", lost
    printf "%-18s %7s %8s %9s %14s %14s %14s\n", "thread", "CPU %", "slices/s", "measured", "charged/slice", "switched in", "charged before"
    for (tid in n) {
        if (n[tid] < S * 5) continue   # threads that hardly ran
        c = rt[tid] / n[tid] / 1e3; o = span[tid] / n[tid] / 1e3
        printf "%-18s %6.2f%% %8.0f %9d %11.1f us %11.1f us %11.1f us\n", owner[tid] "/" tid, total[tid] / S / 1e7,
               n[tid] / S, n[tid], c, o, c - o
    }
}' "$d/tids" "$d/trace"
echo "(bench_timer alone, by its own clock: $(cat "$d/timer.out"))"

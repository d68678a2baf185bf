#!/bin/sh
# pressmon record's own cost (docs/BENCHMARKS.md "## record"):
#  - own CPU (% of one core, from runs.self_cpu_ns: all threads, SQLite
#    included) while recording for BENCH_SECONDS (default 20):
#      100 Hz system-only, 1 kHz system-only, 100 Hz + a 50-process tree at 25 Hz;
#    with missed ticks and lateness p50/p99 of each, and the floor under
#    them: a bare timerfd thread at 100 Hz and 1 kHz (bench/bench_timer.c),
#    and the same thread reading the four files of a 100 Hz tick;
#  - bytes per system sample and per process sample on disk (SQLite dbstat);
#  - wall time of `pressmon record -- true` against `true`.
#   bench/record.sh build/pressmon
set -eu
P=$(realpath "${1:-build/pressmon}")
S=${BENCH_SECONDS:-20}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
db=$d/bench.db
q() { sqlite3 -batch -noheader "$db" "$1"; }

"$P" record -q --db "$db" -l sys100 --duration "${S}s"
"$P" record -q --db "$db" -l sys1k -i 1ms --duration "${S}s"
"$P" record -q --db "$db" -l tree50 -i 10ms -p 40ms -- sh -c "i=0; while [ \$i -lt 50 ]; do sleep $S & i=\$((i+1)); done; wait"

echo "own CPU while recording ${S} s (2-vCPU VM; % of one core)"
printf '%-34s %8s %8s %10s %10s %10s %8s\n' case cpu% samples missed late_p50 late_p99 dropped
q "select label, round(self_cpu_ns * 100.0 / duration_ns, 2), samples, missed_ticks,
          round(late_p50_ns / 1e6, 3) || ' ms', round(late_p99_ns / 1e6, 3) || ' ms', dropped
   from runs order by id" | while IFS='|' read -r l c n m p50 p99 dr; do
    case $l in
    sys100) l="100 Hz system only" ;;
    sys1k) l="1 kHz system only" ;;
    tree50) l="100 Hz + 50 processes at 25 Hz" ;;
    esac
    printf '%-34s %8s %8s %10s %10s %10s %8s\n' "$l" "$c" "$n" "$m" "$p50" "$p99" "$dr"
done
# The floor: a thread that only wakes from the same kind of timer, in the
# same session (bench/bench_timer.c).
T=$(dirname "$P")/bench/bench_timer
if [ -x "$T" ]; then
    echo "floor: a bare timerfd thread reading nothing, ${S} s each"
    "$T" 100 "$S"
    "$T" 1000 "$S"
    # The least any sampler pays here for what pressmon reads on every
    # 100 Hz tick: the same timer, and a pread of each of those four files
    # (no parsing, no storing).  The 100 Hz system-only case cannot cost
    # less than this on this machine.
    echo "floor with the four files read on every 100 Hz tick (meminfo, PSI cpu/memory/io):"
    "$T" 100 "$S" /proc/meminfo /proc/pressure/cpu /proc/pressure/memory /proc/pressure/io
fi
echo
echo "bytes on disk (SQLite dbstat: pages of the table, B-tree overhead included)"
q "select 'system sample:  ' || round((select sum(pgsize) from dbstat where name = 'samples') * 1.0 /
          (select count(*) from samples), 1) || ' bytes (' || (select count(*) from samples) || ' rows)'"
q "select 'process sample: ' || round((select sum(pgsize) from dbstat where name = 'proc_samples') * 1.0 /
          max(1, (select count(*) from proc_samples)), 1) || ' bytes (' || (select count(*) from proc_samples) || ' rows)'"
echo
N=20
t0=$(date +%s%N); i=0; while [ $i -lt $N ]; do true; i=$((i + 1)); done; t1=$(date +%s%N)
i=0; while [ $i -lt $N ]; do /bin/true; i=$((i + 1)); done; t2=$(date +%s%N)
i=0; while [ $i -lt $N ]; do "$P" record -q --db "$db" -- /bin/true; i=$((i + 1)); done; t3=$(date +%s%N)
i=0; while [ $i -lt $N ]; do "$P" --version >/dev/null; i=$((i + 1)); done; t4=$(date +%s%N)
i=0; while [ $i -lt $N ]; do PRESSMON_ATTRIBUTION=off "$P" record -q --db "$db" -- /bin/true; i=$((i + 1)); done; t5=$(date +%s%N)
base=$(( (t2 - t1) / N / 1000 )); with=$(( (t3 - t2) / N / 1000 ))
echo "wall time, mean of $N runs back to back: /bin/true ${base} us, pressmon record -- /bin/true ${with} us," \
     "extra $(( (with - base) / 1000 )) ms"
echo "  (pressmon --version $(( (t4 - t3) / N / 1000 )) us: process start;" \
     "PRESSMON_ATTRIBUTION=off record -- /bin/true $(( (t5 - t4) / N / 1000 )) us)"

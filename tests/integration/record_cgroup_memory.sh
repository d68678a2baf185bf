#!/bin/sh
# The run's cgroup memory and its limit, end to end on a cgroup v1 memory
# controller (this machine is hybrid: memory on v1, cgroup2 without it).
# pressmon records inside a fresh v1 memory cgroup limited to 200 MiB while
# its command holds ~100 MiB: cg_mem_current_kb (memory.usage_in_bytes)
# peaks between 100 and 200 MiB, cg_mem_max_kb is the 200 MiB on the first,
# the last and the once-a-second rows and NULL in between, and the
# end-of-run summary, show, show --json, record --json and the exporters
# say so; cg_mem_headroom_pct is filled every tick and diff ranks it.  A
# run in a sub-cgroup without a limit of its own gets its
# parent's; a run outside any limit stores cg_mem_max_kb NULL and prints no
# cgroup line.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to create memory cgroups; running as uid $(id -u)"
[ -w /sys/fs/cgroup/memory ] || skip "needs the v1 memory controller at /sys/fs/cgroup/memory (this test's cgroup setup is v1)"
command -v python3 >/dev/null || skip "needs python3 to hold memory"
command -v jq >/dev/null || fail "jq missing (make deps)"
CG=/sys/fs/cgroup/memory/pressmon-cgmem-$$
# pressmon leaves a short-lived child behind (it removes the tracefs
# instance a second later): wait for the cgroups to empty, then remove them.
cleanup() {
    for d in "$CG/job" "$CG"; do
        [ -d "$d" ] || continue
        i=0
        while [ -n "$(cat "$d/cgroup.procs")" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        rmdir "$d" || echo "cannot remove $d" >&2
    done
    rm -rf "$T"
}
trap cleanup EXIT
mkdir "$CG" || fail "cannot create memory cgroup $CG"
echo 200M > "$CG/memory.limit_in_bytes" || fail "cannot set the limit of $CG"
expect_eq "$(cat "$CG/memory.limit_in_bytes")" 209715200 "the limit set"
mkdir "$CG/job" || fail "cannot create $CG/job"

# ~100 MiB written (every page touched), held for 1.5 s
HOLD='import time; b = bytearray(b"\1") * (100 << 20); time.sleep(1.5)'
ERR=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" record --json -i 10ms -l limited -- python3 -c "$3"' \
    sh "$CG" "$PRESSMON" "$HOLD" 2>&1 >"$T/out")
RC=$?
OUT=$(cat "$T/out")
expect_eq "$RC" 0 "record in the 200 MiB cgroup"
run="run_id = (select id from runs where label = 'limited')"
expect_contains "$(q "select sources from runs where label = 'limited'")" "cgroup-v1-memory" "sources"
n=$(q "select count(*) from samples where $run")
expect_ge "$n" 100 "samples in ~1.5 s at 10 ms"
expect_eq "$(q "select count(cg_mem_current_kb) from samples where $run")" "$n" "cg_mem_current_kb on every row"
peak=$(q "select max(cg_mem_current_kb) from samples where $run")
expect_ge "$peak" 102400 "cgroup peak (KiB) with 100 MiB held"
[ "$peak" -lt 204800 ] || fail "cgroup peak $peak KiB at or over the 200 MiB limit"
# the limit: once a second plus the first and last rows; NULL in between
nmax=$(q "select count(cg_mem_max_kb) from samples where $run")
[ "$nmax" -ge 3 ] && [ "$nmax" -le 4 ] || fail "cg_mem_max_kb on $nmax of $n rows, want 3-4 (first, 1 s, last)"
expect_eq "$(q "select min(cg_mem_max_kb) || ' ' || max(cg_mem_max_kb) from samples where $run")" "204800 204800" \
    "cg_mem_max_kb"
expect_eq "$(q "select cg_mem_max_kb is not null from samples where $run order by t_ns limit 1")" 1 "limit on the first row"
expect_eq "$(q "select cg_mem_max_kb is not null from samples where $run order by t_ns desc limit 1")" 1 "limit on the last row"
expect_eq "$(q "select count(cg_mem_high_kb) from samples where $run")" 0 "no memory.high on v1"
expect_eq "$(q "select count(cg_mem_headroom_pct) from samples where $run")" "$n" "cg_mem_headroom_pct on every row"
hr=$(q "select min(cg_mem_headroom_pct) from samples where $run")
d=$((hr - (204800 - peak) * 100 / 204800))
[ $d -ge -1 ] && [ $d -le 1 ] || fail "lowest headroom $hr%, want (204800 - $peak) / 204800 in percent"
expect_eq "$(q "select unit || ' ' || kind from metrics where name = 'cg_mem_max_kb'")" "bytes gauge" "the catalog row"
expect_eq "$(q "select max(cgroup_memory_max_bytes) from sample_rates")" 209715200.0 "sample_rates"

# the summary: the same peak as stored, against the 200 MiB limit
line=$(printf '%s\n' "$ERR" | grep '^pressmon: cgroup memory peak ')
[ -n "$line" ] || fail "no cgroup line in the summary: $ERR"
expect_contains "$line" " MiB of its 200.0 MiB limit (" "summary limit"
said=$(printf '%s\n' "$line" | sed 's/^pressmon: cgroup memory peak \([0-9.]*\) MiB.*/\1/')
pct=$(printf '%s\n' "$line" | sed 's/.*limit (\([0-9]*\)%)$/\1/')
awk -v s="$said" -v p="$peak" 'BEGIN { d = s - p / 1024; exit !(d < 0.051 && d > -0.051) }' ||
    fail "summary peak $said MiB, stored $peak KiB"
awk -v c="$pct" -v p="$peak" 'BEGIN { d = c - p * 100 / 204800; exit !(d <= 0.5 && d >= -0.5) }' ||
    fail "summary percent $pct, stored peak $peak KiB of 204800"
expect_eq "$(printf '%s' "$OUT" | jq -c '[.cgroup_memory_peak_bytes, .cgroup_memory_max_bytes]')" \
    "[$((peak * 1024)),209715200]" "record --json"

pm show last
expect_eq "$RC" 0 "show"
expect_contains "$OUT" "memory     cgroup memory peak $said MiB of its 200.0 MiB limit ($pct%)" "show"
line=$(printf '%s\n' "$OUT" | grep '^cg_mem_max ')
set -- $line
expect_eq "$2 $3 $8 $9" "200.0 MiB 200.0 MiB" "show's cg_mem_max min, max"
pm show --json last
expect_eq "$(printf '%s' "$OUT" | jq -c '[.cgroup_memory.peak_bytes, .cgroup_memory.max_bytes]')" \
    "[$((peak * 1024)),209715200]" "show --json"

pm export last --format openmetrics
expect_eq "$RC" 0 "export openmetrics"
expect_contains "$OUT" "# TYPE pressmon_cgroup_memory_max_bytes gauge" "openmetrics type"
expect_eq "$(printf '%s\n' "$OUT" | grep -c '^pressmon_cgroup_memory_max_bytes{')" "$nmax" "exported limit points"
expect_eq "$(printf '%s\n' "$OUT" | grep '^pressmon_cgroup_memory_max_bytes{' | awk '{print $2}' | sort -u)" 209715200 \
    "exported limit value"
pm export last --format csv
col=$(printf '%s\n' "$OUT" | head -1 | tr ',' '\n' | grep -n '^pressmon_cgroup_memory_max_bytes$' | cut -d: -f1)
[ -n "$col" ] || fail "csv header has no cgroup limit column"
expect_eq "$(printf '%s\n' "$OUT" | tail -n 1 | cut -d, -f"$col")" 209715200 "csv: the last row"

# a sub-cgroup without a limit of its own is bound by its parent's
ERR=$(sh -c 'echo $$ > "$1/job/cgroup.procs" && exec "$2" record -i 10ms -l job -- sleep 0.3' sh "$CG" "$PRESSMON" 2>&1)
expect_eq "$?" 0 "record in the sub-cgroup"
expect_eq "$(q "select count(cg_mem_max_kb) >= 2, min(cg_mem_max_kb), max(cg_mem_max_kb) from samples where run_id = (select id from runs where label = 'job')")" \
    "1|204800|204800" "the parent's limit"
expect_contains "$ERR" "of its 200.0 MiB limit" "summary in the sub-cgroup"

# diff ranks the headroom like other memory metrics: lower is worse
pm diff --json label:limited label:job
expect_eq "$RC" 0 "diff"
d=$(printf '%s' "$OUT" | jq -c '.metrics[] | select(.key == "cg_mem_headroom_pct") | [.unit, .stat, .a.min, (.b.min > .a.min), .threshold_below]')
expect_eq "$d" "[\"percent\",\"p05\",$hr,true,true]" "diff of cg_mem_headroom_pct"

# outside the test cgroup: no limit here (this machine's session cgroup is
# unlimited), so NULL and no cgroup line
lim=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
if [ "$(cat "/sys/fs/cgroup/memory$lim/memory.limit_in_bytes")" -lt 4611686018427387904 ]; then
    echo "this shell's memory cgroup $lim has a limit: the unlimited case is not exercised" >&2
    echo ok
    exit 0
fi
pm record -i 10ms -l free -- sleep 0.3
expect_eq "$RC" 0 "record outside the test cgroup"
expect_eq "$(q "select count(cg_mem_max_kb), count(cg_mem_current_kb) > 0 from samples where run_id = (select id from runs where label = 'free')")" \
    "0|1" "no limit: NULL, usage still recorded"
case "$ERR" in *"cgroup memory peak"*) fail "a cgroup line without a limit: $ERR" ;; esac
echo ok

#!/bin/sh
# Kill attribution cost (docs/BENCHMARKS.md "## attribution"):
# pressmon's own CPU while recording a fork storm of 5,000 processes and a
# kill storm of 1,000 SIGKILLed processes, with attribution on and off
# (PRESSMON_ATTRIBUTION=off), 3 runs each.  Run as root (tracefs).
#   bench/attribution.sh build/pressmon
set -eu
P=$(realpath "${1:-build/pressmon}")
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
cat > "$d/storm.sh" <<'S'
#!/bin/sh
i=0
while [ $i -lt 50 ]; do
  j=0; while [ $j -lt 100 ]; do /bin/true & j=$((j+1)); done; wait
  i=$((i+1))
done
S
cat > "$d/killstorm.sh" <<'S'
#!/bin/sh
i=0
while [ $i -lt 20 ]; do
  pids=""; j=0; while [ $j -lt 50 ]; do sleep 30 & pids="$pids $!"; j=$((j+1)); done
  kill -9 $pids; wait
  i=$((i+1))
done
S
chmod +x "$d"/*.sh
for mode in on off on off on off; do
  for s in storm killstorm; do
    PRESSMON_ATTRIBUTION=$mode "$P" record --quiet --label "$s-$mode" --db "$d/b.db" -- "$d/$s.sh" || true
  done
done
sqlite3 -header -column "$d/b.db" "
SELECT label, count(*) AS runs, round(avg(self_cpu_ns) / 1e6, 1) AS cpu_ms,
       round(min(self_cpu_ns) / 1e6, 1) AS min_ms, round(max(self_cpu_ns) / 1e6, 1) AS max_ms,
       round(avg(duration_ns) / 1e6) AS wall_ms,
       round(avg(self_cpu_ns) / 1e3 / (SELECT count(*) FROM procs p WHERE p.run_id = runs.id), 1) AS us_per_proc
FROM runs GROUP BY label ORDER BY label"

#!/bin/sh
# Push one recorded run by every protocol to real servers and read every
# sample back: Prometheus (remote write), VictoriaMetrics (remote write and
# Influx line protocol), InfluxDB 1.x (line protocol, ns), Pushgateway (run
# summary).  tests/e2e/check.py compares with the SQLite rows.
set -eu
. "$(dirname "$0")/servers.sh"
e2e_init
[ -x "$BENCH" ] || e2e_skip "$BENCH is missing (make test-e2e builds it)"
start_prometheus
start_victoria
start_influx
start_pushgateway
CHECK="python3 $ROOT/tests/e2e/check.py"

# A run whose label needs escaping in every format.
DB="$E2E/runs.db"
LABEL='ci "nightly", a=b c
ü'
UID1=$("$BENCH" gen "$DB" 3 100 "$LABEL" 3)

"$PRESSMON" push "$UID1" --db "$DB" --to "$PROM/api/v1/write"
$CHECK prom "$PROM" "$DB" "$UID1"

"$PRESSMON" push "$UID1" --db "$DB" --to "$VM/api/v1/write"
$CHECK vm "$VM" "$DB" "$UID1"

"$PRESSMON" push "$UID1" --db "$DB" --to "$INFLUX/write?db=pressmon"
$CHECK influx "$INFLUX" "$DB" "$UID1"

"$PRESSMON" push "$UID1" --db "$DB" --to "$PGW" --protocol pushgateway
$CHECK pgw "$PGW" "$DB" "$UID1"

# Influx line protocol into VictoriaMetrics: same metric names.  A second
# run, so that the series of the first do not mask these.
UID2=$("$BENCH" gen "$DB" 2 50 "$LABEL" 0)
"$PRESSMON" push "$UID2" --db "$DB" --to "$VM/write"
$CHECK vm "$VM" "$DB" "$UID2" --influx-vm

# Pushing the same run again changes nothing (same series, same samples).
"$PRESSMON" push "$UID1" --db "$DB" --to "$PROM/api/v1/write" --batch 500
$CHECK prom "$PROM" "$DB" "$UID1"
echo "push to real servers: ok"

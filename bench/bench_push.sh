#!/bin/sh
# Push benchmarks for docs/BENCHMARKS.md "## push":
#   - throughput (samples/s) of pushing a one-hour 100 Hz run (360,000
#     samples x every catalog metric) to VictoriaMetrics and to Prometheus
#     by remote write, and to VictoriaMetrics by Influx line protocol;
#   - CPU cost of live push at 100 Hz (bench_push live).
# Usage: bench/bench_push.sh BUILD_DIR [SECONDS_OF_RUN]   (default 3600)
set -eu
BUILD_DIR=$(cd "${1:-build}" && pwd)
SECS=${2:-3600}
PRESSMON="$BUILD_DIR/pressmon"
export PRESSMON
set -- # servers.sh reads $0 only
. "$(dirname "$0")/../tests/e2e/servers.sh"
e2e_init
BENCH="$BUILD_DIR/bench/bench_push"
start_victoria
start_prometheus
DB="$E2E/bench.db"
t0=$(date +%s.%N)
RUN=$("$BENCH" gen "$DB" "$SECS" 100 bench 0)
t1=$(date +%s.%N)
echo "generated a ${SECS} s 100 Hz run ($(sqlite3 "$DB" "SELECT count(*) FROM samples") samples) in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
echo "victoria-metrics remote write: $("$BENCH" throughput "$DB" "$RUN" "$VM/api/v1/write")"
echo "prometheus remote write:       $("$BENCH" throughput "$DB" "$RUN" "$PROM/api/v1/write")"
echo "victoria-metrics influx:       $("$BENCH" throughput "$DB" "$RUN" "$VM/write")"
echo "prometheus RSS after ingest: $(ps -o rss= -p "$(echo $E2E_PIDS | awk '{print $2}')") KiB"
echo "baseline (no push): $("$BENCH" live none 20 100)"
echo "live remote write:  $("$BENCH" live "$VM/api/v1/write" 20 100)"
echo "live influx:        $("$BENCH" live "$VM/write" 20 100)"

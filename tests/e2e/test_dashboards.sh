#!/bin/sh
# Every query of every dashboard (panels, variables, annotations, with the
# variables substituted) runs against a real Prometheus and a real
# VictoriaMetrics holding two pushed runs, and returns data.  Also: the
# committed JSON is what dashboards/generate.py produces.
set -eu
. "$(dirname "$0")/servers.sh"
e2e_init
[ -x "$BENCH" ] || e2e_skip "$BENCH is missing (make test-e2e builds it)"
mkdir -p "$E2E/gen"
cp "$ROOT/dashboards/generate.py" "$E2E/gen/"
python3 "$E2E/gen/generate.py"
for f in run-timeline run-vs-run ci-overview; do
    cmp -s "$E2E/gen/$f.json" "$ROOT/dashboards/$f.json" ||
        e2e_fail "dashboards/$f.json is not what dashboards/generate.py makes: re-run it"
done
start_prometheus
start_victoria
DB="$E2E/runs.db"
A=$("$BENCH" gen "$DB" 3 100 nightly 1)
B=$("$BENCH" gen "$DB" 3 100 nightly 0)
for u in "$A" "$B"; do
    "$PRESSMON" push "$u" --db "$DB" --to "$PROM/api/v1/write" -q
    "$PRESSMON" push "$u" --db "$DB" --to "$VM/api/v1/write" -q
done
# Wait until VictoriaMetrics shows both runs.
python3 "$ROOT/tests/e2e/check.py" vm "$VM" "$DB" "$B" >/dev/null
start=$(sqlite3 "$DB" "SELECT min(started_at) / 1000000000 - 30 FROM runs")
end=$(sqlite3 "$DB" "SELECT max(ended_at) / 1000000000 + 30 FROM runs")
for server in "$PROM" "$VM"; do
    python3 "$ROOT/tests/e2e/dashboards.py" "$server" "$start" "$end" "$A" "$B" \
        "$ROOT"/dashboards/*.json > "$E2E/dash.out" || { cat "$E2E/dash.out"; exit 1; }
    tail -n 1 "$E2E/dash.out"
done

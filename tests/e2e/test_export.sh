#!/bin/sh
# `pressmon export`: csv and jsonl carry every sample with the values and
# timestamps of the database (tests/e2e/check.py); openmetrics is accepted
# whole by Prometheus' own OpenMetrics parser (promtool tsdb
# create-blocks-from openmetrics) with the right number of samples; influx
# is what push sends; a label needing escapes survives; unknown formats and
# runs are errors.
set -eu
. "$(dirname "$0")/servers.sh"
e2e_init
[ -x "$BENCH" ] || e2e_skip "$BENCH is missing (make test-e2e builds it)"
DB="$E2E/runs.db"
RUN=$("$BENCH" gen "$DB" 2 100 'exp "q", a=b c
ü' 1)
CHECK="python3 $ROOT/tests/e2e/check.py"
"$PRESSMON" export "$RUN" --db "$DB" --format csv > "$E2E/run.csv"
$CHECK csv "$E2E/run.csv" "$DB" "$RUN"
"$PRESSMON" export "$RUN" --db "$DB" --format jsonl > "$E2E/run.jsonl"
$CHECK jsonl "$E2E/run.jsonl" "$DB" "$RUN"

"$PRESSMON" export "$RUN" --db "$DB" --format openmetrics > "$E2E/run.om"
tail -n 1 "$E2E/run.om" | grep -qx '# EOF' || e2e_fail "openmetrics does not end in # EOF"
need_bin promtool
promtool tsdb create-blocks-from openmetrics "$E2E/run.om" "$E2E/blocks" > "$E2E/promtool.out" 2>&1 ||
    { cat "$E2E/promtool.out"; e2e_fail "promtool rejected the OpenMetrics export"; }
want=$(grep -vc '^#' "$E2E/run.om")
got=$(awk 'length($1) == 26 && $1 ~ /^[0-9A-Z]+$/ { n += $5 } END { print n + 0 }' "$E2E/promtool.out")
[ "$got" -eq "$want" ] || e2e_fail "promtool read $got samples, the export has $want"
samples=$(python3 -c "import json,sys; print(sum(len(json.loads(l).get('metrics', {})) for l in open(sys.argv[1])))" "$E2E/run.jsonl")
[ "$want" -gt "$samples" ] || e2e_fail "openmetrics has $want samples, fewer than the $samples sampled values"

"$PRESSMON" export "$RUN" --db "$DB" --format influx > "$E2E/run.lp"
lines=$(wc -l < "$E2E/run.lp")
rows=$(sqlite3 "$DB" "SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.uid = '$RUN'")
[ "$lines" -gt "$rows" ] || e2e_fail "influx export has $lines lines for $rows samples"
grep -q '^pressmon,instance=[^ ]*,label=exp\\ "q"\\,\\ a\\=b\\ c\\ ü,run_id=' "$E2E/run.lp" ||
    e2e_fail "influx tags not escaped as expected: $(head -c 200 "$E2E/run.lp")"

# --no-run-id drops the label everywhere.
"$PRESSMON" export "$RUN" --db "$DB" --format openmetrics --no-run-id | grep -q 'run_id=' &&
    e2e_fail "--no-run-id left run_id in"
set +e
"$PRESSMON" export "$RUN" --db "$DB" --format xml >/dev/null 2>&1; [ $? -eq 2 ] || e2e_fail "unknown format not a usage error"
"$PRESSMON" export NOSUCHRUN --db "$DB" >/dev/null 2>&1; [ $? -eq 1 ] || e2e_fail "unknown run not an error"
set -e
echo "export: ok"

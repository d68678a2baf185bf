#!/bin/sh
# make bench: every benchmark, one after another, printing figures.
# Record them in docs/BENCHMARKS.md with the command that produced them.
set -eu
B=${1:-build}
echo "== record (bench/record.sh)"
bench/record.sh "$B/pressmon"
echo
echo "== start-up (bench/startup.py; give it main's binary too to compare)"
bench/startup.py -n 30 "$B/pressmon"
echo
echo "== diff ($B/bench/bench_diff)"
"$B/bench/bench_diff"
echo
echo "== rm ($B/bench/bench_rm; the databases go to ${TMPDIR:-/tmp})"
"$B/bench/bench_rm" "$B/pressmon" "${TMPDIR:-/tmp}"
if [ "$(id -u)" = 0 ]; then
    echo
    echo "== attribution (bench/attribution.sh)"
    bench/attribution.sh "$B/pressmon"
    echo
    echo "== what a timer wakeup is charged (bench/wakeup_charge.sh)"
    bench/wakeup_charge.sh 10 "$B/pressmon"
else
    echo "(attribution and wakeup charge benchmarks skipped: need root for tracefs)"
fi

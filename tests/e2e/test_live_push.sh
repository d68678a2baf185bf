#!/bin/sh
# `pressmon record --push URL`: samples arrive while recording (read back
# from VictoriaMetrics and Prometheus and compared with SQLite), and a
# server that is down, answers 500, answers 400 or hangs leaves the
# recording complete and the child's exit status intact; what was not sent
# is counted, said once, and `pressmon push` sends it afterwards.
set -eu
. "$(dirname "$0")/servers.sh"
e2e_init
start_victoria
start_prometheus
CHECK="python3 $ROOT/tests/e2e/check.py"
DB="$E2E/live.db"
last_uid() { sqlite3 "$DB" "SELECT uid FROM runs ORDER BY id DESC LIMIT 1"; }
rec() { # expected-exit, push url, then the child's shell script
    want=$1; url=$2; shift 2
    set +e
    "$PRESSMON" record --db "$DB" --interval 10ms --push "$url" -- sh -c "$1" >"$E2E/rec.out" 2>"$E2E/rec.err"
    rc=$?
    set -e
    [ $rc -eq "$want" ] || { cat "$E2E/rec.err" >&2; e2e_fail "record exited $rc, expected $want"; }
    RUN=$(last_uid)
    state=$(sqlite3 "$DB" "SELECT state || ' ' || samples FROM runs WHERE uid = '$RUN'")
    case "$state" in "done "*) ;; *) e2e_fail "run $RUN not complete: $state";; esac
    n=$(sqlite3 "$DB" "SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.uid = '$RUN'")
    [ "$n" -ge 30 ] || e2e_fail "run $RUN has only $n samples"
}

# Live to VictoriaMetrics and to Prometheus: everything arrives.
# A kill inside the tree: its annotation point arrives while the run is
# still recording (the writer hands kills to the live push as it stores
# them); the end of the run adds the summary, and the kill is not sent
# twice ("1 kill event(s)" below).
(
    # poll while the command sleeps after the kill; write what was seen
    i=0; seen=""
    while [ $i -lt 60 ] && [ -z "$seen" ]; do
        sleep 0.1; i=$((i + 1))
        run=$(sqlite3 "$DB" "SELECT uid FROM runs WHERE state = 'recording' ORDER BY id DESC LIMIT 1" 2>/dev/null || true)
        [ -n "$run" ] || continue
        curl -s -o /dev/null "$VM/internal/force_flush" || true
        body=$(curl -s -G "$VM/api/v1/export" --data-urlencode "match[]=pressmon_kill_event_timestamp_seconds{run_id=\"$run\"}" || true)
        case "$body" in *'"target":"sleep"'*) state=$(sqlite3 "$DB" "SELECT state FROM runs WHERE uid = '$run'"); seen="$state";; esac
    done
    echo "$seen" > "$E2E/live_kill_seen"
) &
poller=$!
rec 3 "$VM/api/v1/write" 'sleep 5 & sleep 0.5; kill -9 $!; sleep 4; exit 3'
wait $poller
[ "$(cat "$E2E/live_kill_seen")" = recording ] ||
    e2e_fail "the kill did not reach VictoriaMetrics while the run was recording (seen: '$(cat "$E2E/live_kill_seen")')"
echo "live push: the kill arrived while the run was recording"
$CHECK vm "$VM" "$DB" "$RUN" > "$E2E/check.out" || { cat "$E2E/check.out"; exit 1; }
cat "$E2E/check.out"
grep -q "all .* samples match" "$E2E/check.out"
grep -q "victoria-metrics: 1 kill event(s)" "$E2E/check.out" || e2e_fail "the kill was not pushed live"
rec 0 "$PROM/api/v1/write" 'sleep 1.5'
$CHECK prom "$PROM" "$DB" "$RUN"

# Influx line protocol live, to VictoriaMetrics.
rec 0 "$VM/write" 'sleep 1'
$CHECK vm "$VM" "$DB" "$RUN" --influx-vm

# A Pushgateway URL: only the end-of-run summary, with the run's labels.
start_pushgateway
rec 4 "$PGW/metrics/job/pressmon" 'sleep 0.5; exit 4'
$CHECK pgw "$PGW" "$DB" "$RUN"

# A child killed by a signal keeps its status (128+9).
rec 137 "$VM/api/v1/write" 'sleep 0.5; kill -9 $$'

# Failing servers: the recording is complete, the status intact, one line said.
port=$(free_port)
for mode in down e500 e400 hang; do
    if [ $mode = down ]; then url="http://127.0.0.1:$port"; else start_fake $mode; url=$FAKE; fi
    t0=$(date +%s)
    rec 5 "$url/api/v1/write" 'sleep 2; exit 5'
    t1=$(date +%s)
    # A hung server may hold `record` at most the finish bound (5 s) longer.
    [ $((t1 - t0)) -lt 12 ] || e2e_fail "$mode: record took $((t1 - t0)) s"
    said=$(grep -c "live push to" "$E2E/rec.err" || true)
    [ "$said" -eq 1 ] || { cat "$E2E/rec.err" >&2; e2e_fail "$mode: failure said $said times, expected once"; }
    grep -q "samples not sent" "$E2E/rec.err" || e2e_fail "$mode: unsent samples not counted"
    # ... and `pressmon push` sends the run afterwards, in full.
    "$PRESSMON" push "$RUN" --db "$DB" --to "$VM/api/v1/write" 2>/dev/null
    $CHECK vm "$VM" "$DB" "$RUN" >/dev/null
    echo "live push, server $mode: recording complete, exit 5 kept, re-push complete"
done
echo "live push: ok"

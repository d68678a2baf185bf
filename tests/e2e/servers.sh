# Start and stop real metric servers for the push tests (sourced by
# tests/e2e/test_*.sh).  Each server runs from Debian's package binary on
# 127.0.0.1, on a free port, with its data in a temp dir, and is stopped by
# its pid when the test exits.  A missing binary makes the test skip (77)
# with a reason; `tools/deps.sh servers` installs them all.
#
#   . tests/e2e/servers.sh
#   e2e_init                     # temp dir $E2E, trap that stops everything
#   start_prometheus             # sets PROM=http://127.0.0.1:PORT
#   start_victoria               # sets VM=...
#   start_influx                 # sets INFLUX=... (database "pressmon" created)
#   start_pushgateway            # sets PGW=...
#   start_fake MODE              # sets FAKE=... (tests/e2e/fake_server.py MODE)

E2E_PIDS=""

e2e_skip() { echo "$*" >&2; exit 77; }
e2e_fail() { echo "FAIL: $*" >&2; exit 1; }

e2e_init() {
    E2E=$(mktemp -d "${TMPDIR:-/tmp}/pressmon-e2e.XXXXXX")
    # Keep the test's exit status: the cleanup's own commands must not set it.
    trap 'rc=$?; e2e_cleanup; exit $rc' EXIT
    trap 'exit 130' INT TERM
    : "${PRESSMON:?set PRESSMON to the pressmon binary (make test-e2e does)}"
    ROOT=$(cd "$(dirname "$0")/../.." && pwd)
    BUILD_DIR=$(dirname "$PRESSMON")
    BENCH="$BUILD_DIR/bench/bench_push"
    command -v python3 >/dev/null 2>&1 || e2e_skip "python3 is missing (tools/deps.sh servers installs it)"
    command -v curl >/dev/null 2>&1 || e2e_skip "curl is missing (tools/deps.sh servers installs it)"
}

e2e_cleanup() {
    set +e # the tests run with -e: a server that is already gone is fine here
    for p in $E2E_PIDS; do kill "$p" 2>/dev/null; done
    for p in $E2E_PIDS; do
        i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$p" 2>/dev/null
    done
    [ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL [SECONDS]: until URL answers 2xx.
wait_http() {
    i=0; n=$(( ${2:-20} * 10 ))
    while ! curl -fsS -o /dev/null "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt $n ] && return 1; sleep 0.1
    done
}

need_bin() { command -v "$1" >/dev/null 2>&1 || e2e_skip "$1 is not installed (run: tools/deps.sh servers)"; }

start_prometheus() {
    need_bin prometheus
    port=$(free_port); d="$E2E/prometheus"; mkdir -p "$d/data"
    # No scrape jobs: the TSDB holds only what we push.  Pushed runs are in
    # the past, which Prometheus takes only inside out_of_order_time_window.
    cat > "$d/prometheus.yml" <<YML
global:
  scrape_interval: 1h
storage:
  tsdb:
    out_of_order_time_window: 30d
YML
    prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
        --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver \
        --log.level=warn >"$d/log" 2>&1 &
    E2E_PIDS="$E2E_PIDS $!"
    PROM="http://127.0.0.1:$port"
    wait_http "$PROM/-/ready" || { cat "$d/log" >&2; e2e_fail "prometheus did not start"; }
}

start_victoria() {
    need_bin victoria-metrics
    port=$(free_port); d="$E2E/victoria"; mkdir -p "$d"
    # latencyOffset=0 and no cache: a pushed sample is queryable as soon as
    # it is flushed (we call /internal/force_flush before reading).
    victoria-metrics -httpListenAddr="127.0.0.1:$port" -storageDataPath="$d/data" \
        -retentionPeriod=100y -search.latencyOffset=0s -search.disableCache \
        -loggerLevel=WARN >"$d/log" 2>&1 &
    E2E_PIDS="$E2E_PIDS $!"
    VM="http://127.0.0.1:$port"
    wait_http "$VM/health" || { cat "$d/log" >&2; e2e_fail "victoria-metrics did not start"; }
}

start_influx() {
    need_bin influxd
    port=$(free_port); rpc=$(free_port); d="$E2E/influx"; mkdir -p "$d"
    cat > "$d/influxdb.conf" <<TOML
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$d/meta"
[data]
  dir = "$d/data"
  wal-dir = "$d/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$port"
  log-enabled = false
[monitor]
  store-enabled = false
TOML
    influxd run -config "$d/influxdb.conf" >"$d/log" 2>&1 &
    E2E_PIDS="$E2E_PIDS $!"
    INFLUX="http://127.0.0.1:$port"
    i=0
    until curl -fsS -o /dev/null "$INFLUX/ping" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 200 ] && { cat "$d/log" >&2; e2e_fail "influxd did not start"; }; sleep 0.1
    done
    curl -fsS -XPOST "$INFLUX/query" --data-urlencode "q=CREATE DATABASE pressmon" >/dev/null ||
        e2e_fail "cannot create the influx database"
}

start_pushgateway() {
    need_bin prometheus-pushgateway
    port=$(free_port); d="$E2E/pushgateway"; mkdir -p "$d"
    prometheus-pushgateway --web.listen-address="127.0.0.1:$port" --log.level=warn >"$d/log" 2>&1 &
    E2E_PIDS="$E2E_PIDS $!"
    PGW="http://127.0.0.1:$port"
    wait_http "$PGW/-/ready" || { cat "$d/log" >&2; e2e_fail "pushgateway did not start"; }
}

# A scripted HTTP server for failure modes real servers do not produce on
# demand: 500 always, 400 always, hang, 500-then-ok; it logs each request.
start_fake() { # MODE [CERT KEY]: with a certificate, https
    port=$(free_port)
    python3 "$ROOT/tests/e2e/fake_server.py" "$port" "$1" "$E2E/fake-$1.log" ${2:+"$2"} ${3:+"$3"} \
        >"$E2E/fake-$1.out" 2>&1 &
    E2E_PIDS="$E2E_PIDS $!"
    if [ -n "${2:-}" ]; then FAKE="https://127.0.0.1:$port"; else FAKE="http://127.0.0.1:$port"; fi
    i=0; while ! grep -q ready "$E2E/fake-$1.out" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && e2e_fail "fake server did not start"; sleep 0.1; done
}

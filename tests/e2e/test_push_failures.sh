#!/bin/sh
# How `pressmon push` fails: 400 is permanent (one request, the server's
# words printed); 500/429/connection errors are retried with backoff, then
# given up; "out of bounds" is reported as too old without retrying; a
# hanging server hits the request timeout.  Credentials reach the server
# but never stdout, stderr or the database.  Also a real Prometheus
# refusing samples older than its out-of-order window.
set -eu
. "$(dirname "$0")/servers.sh"
e2e_init
[ -x "$BENCH" ] || e2e_skip "$BENCH is missing (make test-e2e builds it)"
DB="$E2E/runs.db"
RUN=$("$BENCH" gen "$DB" 1 100 failures 0)
requests() { [ -f "$E2E/fake-$1.log" ] && wc -l < "$E2E/fake-$1.log" || echo 0; }

expect_fail() { # name, then the command; sets OUT
    set +e; OUT=$("$@" 2>&1); rc=$?; set -e
    [ $rc -ne 0 ] || e2e_fail "push should have failed: $*"
}

# 400: permanent, exactly one request, the server's message shown.
start_fake e400
FAKE400=$FAKE
expect_fail "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write"
echo "$OUT" | grep -q 'HTTP 400: invalid label set' || e2e_fail "400 message not shown: $OUT"
[ "$(requests e400)" -eq 1 ] || e2e_fail "400 was retried ($(requests e400) requests)"

# 500: retried --retries times, then given up.
start_fake e500
FAKE500=$FAKE
expect_fail "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write" --retries 2
echo "$OUT" | grep -q 'HTTP 500' || e2e_fail "500 not reported: $OUT"
[ "$(requests e500)" -eq 3 ] || e2e_fail "500: $(requests e500) requests, expected 3"

# 429 is retried too.
start_fake e429
expect_fail "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write" --retries 1
[ "$(requests e429)" -eq 2 ] || e2e_fail "429: $(requests e429) requests, expected 2"

# flaky: two 500s then success: the push succeeds.
start_fake flaky
"$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write" --retries 3 2>"$E2E/flaky.err" ||
    e2e_fail "push did not survive two 500s: $(cat "$E2E/flaky.err")"

# An Influx endpoint that does not take gzip (415): the body goes plain.
start_fake nogzip
"$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/write" 2>"$E2E/nogzip.err" ||
    e2e_fail "push to a server without gzip failed: $(cat "$E2E/nogzip.err")"
grep -q '"Content-Encoding": "gzip"' "$E2E/fake-nogzip.log" || e2e_fail "gzip was not tried first"
[ "$(grep -vc '"Content-Encoding": "gzip"' "$E2E/fake-nogzip.log")" -ge 2 ] || e2e_fail "no plain retries"

# "out of bounds": too old, no retry.
start_fake old
expect_fail "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write"
echo "$OUT" | grep -q 'too old' || e2e_fail "too-old not reported as such: $OUT"
[ "$(requests old)" -eq 1 ] || e2e_fail "too-old was retried"

# hang: the whole-request timeout ends it.
start_fake hang
t0=$(date +%s)
expect_fail "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write" --timeout 1s --retries 1
t1=$(date +%s)
echo "$OUT" | grep -qi 'timeout\|timed out' || e2e_fail "hang not reported as a timeout: $OUT"
[ $((t1 - t0)) -lt 10 ] || e2e_fail "hang took $((t1 - t0)) s"

# Nothing listening: connection refused, retried, reported.
port=$(free_port)
expect_fail "$PRESSMON" push "$RUN" --db "$DB" --to "http://127.0.0.1:$port/api/v1/write" --retries 1
echo "$OUT" | grep -qi "connect" || e2e_fail "refused connection not reported: $OUT"

# Ambiguous URL without --protocol: usage error naming the fix.
set +e; OUT=$("$PRESSMON" push "$RUN" --db "$DB" --to "http://127.0.0.1:$port/" 2>&1); rc=$?; set -e
[ $rc -eq 2 ] && echo "$OUT" | grep -q -- '--protocol' || e2e_fail "ambiguous URL: rc $rc: $OUT"

# Secrets: basic auth reaches the server, never our output or the database.
SECRET_USER=u123456
SECRET_PW='glc_s3cr3t-Pa55word'
start_fake ok
PRESSMON_PUSH_USER=$SECRET_USER PRESSMON_PUSH_PASSWORD=$SECRET_PW \
    "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write" >"$E2E/ok.out" 2>&1
want=$(printf '%s:%s' "$SECRET_USER" "$SECRET_PW" | base64)
grep -q "Basic $want" "$E2E/fake-ok.log" || e2e_fail "basic auth did not reach the server"
grep -q 'Content-Encoding": "snappy' "$E2E/fake-ok.log" || e2e_fail "no Content-Encoding: snappy"
grep -q 'X-Prometheus-Remote-Write-Version": "0.1.0' "$E2E/fake-ok.log" || e2e_fail "no remote write version header"
PRESSMON_PUSH_TOKEN=tok-$SECRET_PW "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write" >>"$E2E/ok.out" 2>&1
grep -q "Bearer tok-$SECRET_PW" "$E2E/fake-ok.log" || e2e_fail "bearer token did not reach the server"
# ... and failing pushes with secrets set (the error paths print the most).
PRESSMON_PUSH_USER=$SECRET_USER PRESSMON_PUSH_PASSWORD=$SECRET_PW \
    "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write" --retries 0 >>"$E2E/ok.out" 2>&1 || true
for url in "$FAKE400" "$FAKE500" "http://127.0.0.1:1"; do
    PRESSMON_PUSH_USER=$SECRET_USER PRESSMON_PUSH_PASSWORD=$SECRET_PW \
        "$PRESSMON" push "$RUN" --db "$DB" --to "$url/api/v1/write" --retries 0 >>"$E2E/ok.out" 2>&1 || true
done
grep -q 'HTTP 400' "$E2E/ok.out" && grep -q 'HTTP 500' "$E2E/ok.out" || e2e_fail "error paths not exercised"
set +e; "$PRESSMON" push "$RUN" --db "$DB" --to "http://$SECRET_USER:$SECRET_PW@127.0.0.1:1/api/v1/write" \
    >>"$E2E/ok.out" 2>&1; rc=$?; set -e
[ $rc -eq 2 ] || e2e_fail "a URL with credentials was not refused"
grep -q "must not contain credentials" "$E2E/ok.out" || e2e_fail "no message for credentials in the URL"
if grep -q -e "$SECRET_PW" -e "$SECRET_USER" "$E2E/ok.out"; then e2e_fail "a secret was printed"; fi
if grep -a -q -e "$SECRET_PW" "$DB" "$DB-wal" 2>/dev/null; then e2e_fail "a secret is in the database"; fi

# TLS: verification is on (a self-signed server is refused, permanently,
# one request), and --cacert makes it trusted.
if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$E2E/key.pem" -out "$E2E/cert.pem" -days 1 \
        -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
    cp "$E2E/fake-ok.log" "$E2E/fake-ok.plain.log"; rm -f "$E2E/fake-ok.log"
    start_fake ok "$E2E/cert.pem" "$E2E/key.pem"
    case "$FAKE" in https://*) ;; *) e2e_fail "TLS fake server is not https";; esac
    expect_fail "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write"
    echo "$OUT" | grep -qi 'certificate\|SSL' || e2e_fail "untrusted certificate not reported: $OUT"
    [ "$(requests ok)" -eq 0 ] || e2e_fail "a request went through an unverified TLS connection"
    "$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write" --cacert "$E2E/cert.pem" 2>"$E2E/tls.err" ||
        e2e_fail "push with --cacert failed: $(cat "$E2E/tls.err")"
    [ "$(requests ok)" -ge 1 ] || e2e_fail "no request arrived over TLS"
    set +e; OUT=$("$PRESSMON" push "$RUN" --db "$DB" --to "$FAKE/api/v1/write" --cacert "$E2E/none.pem" 2>&1); rc=$?; set -e
    [ $rc -ne 0 ] && echo "$OUT" | grep -q "CA file" || e2e_fail "missing CA file not reported: $OUT"
    echo "TLS: verification on, --cacert honoured"
else
    echo "TLS checks skipped: openssl missing" >&2
fi

# A real Prometheus refusing a run older than its out-of-order window.
start_prometheus_narrow() {
    need_bin prometheus
    port=$(free_port); d="$E2E/prom-narrow"; mkdir -p "$d/data"
    printf 'global:\n  scrape_interval: 1h\n' > "$d/prometheus.yml"
    prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
        --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver \
        --log.level=error >"$d/log" 2>&1 &
    E2E_PIDS="$E2E_PIDS $!"
    PROMN="http://127.0.0.1:$port"
    wait_http "$PROMN/-/ready" || e2e_fail "prometheus did not start"
}
start_prometheus_narrow
NEW=$("$BENCH" gen "$DB" 1 10 fresh 0)
"$PRESSMON" push "$NEW" --db "$DB" --to "$PROMN/api/v1/write" 2>/dev/null
# Make a run 40 days old by moving its start back.
OLD=$("$BENCH" gen "$DB" 1 10 old 0)
sqlite3 "$DB" "UPDATE runs SET started_at = started_at - 40*86400*1000000000, ended_at = ended_at - 40*86400*1000000000 WHERE uid = '$OLD'"
t0=$(date +%s)
expect_fail "$PRESSMON" push "$OLD" --db "$DB" --to "$PROMN/api/v1/write"
t1=$(date +%s)
echo "$OUT" | grep -q 'too old' || e2e_fail "prometheus' too-old rejection not reported as such: $OUT"
[ $((t1 - t0)) -lt 5 ] || e2e_fail "too-old push was retried for $((t1 - t0)) s"
echo "$OUT"
echo "push failure modes: ok"

#!/bin/sh
# Unprivileged: record still works, says once that attribution is off and
# why (stderr and runs.attribution), exit status passes through, and the
# kill is still recorded (signal, cause unknown).
set -u
: "${PRESSMON:?set PRESSMON to the pressmon binary}"
[ "$(id -u)" = 0 ] || { echo "needs root to drop to nobody" >&2; exit 77; }
command -v setpriv >/dev/null || { echo "setpriv (util-linux) is missing" >&2; exit 77; }
d=$(mktemp -d); chmod 777 "$d"; trap 'rm -rf "$d"' EXIT
cp "$PRESSMON" "$d/pressmon"; chmod 755 "$d/pressmon"
cat > "$d/k.sh" <<'S'
#!/bin/sh
sleep 30 & kill -9 $!
wait
kill -TERM $$
S
chmod 755 "$d/k.sh"
cd "$d"
setpriv --reuid=nobody --regid=nogroup --clear-groups ./pressmon record --db "$d/t.db" -- ./k.sh 2> "$d/err"; rc=$?
[ $rc -eq 143 ] || { echo "FAIL: exit status $rc, want 143" >&2; cat "$d/err" >&2; exit 1; }
n=$(grep -c "kill attribution off" "$d/err")
[ "$n" = 1 ] || { echo "FAIL: want one attribution notice, got $n" >&2; cat "$d/err" >&2; exit 1; }
grep "kill attribution off" "$d/err" | grep -q "root" || { echo "FAIL: the notice does not say why" >&2; exit 1; }
got=$(sqlite3 "$d/t.db" "SELECT attribution FROM runs")
case "$got" in on|"") echo "FAIL: runs.attribution '$got'" >&2; exit 1 ;; esac
got=$(sqlite3 "$d/t.db" "SELECT count(*) FROM procs WHERE signal=9 AND kill_cause='unknown'")
[ "$got" = 1 ] || { echo "FAIL: the SIGKILL exit is not recorded as unknown: $got" >&2; sqlite3 "$d/t.db" "select * from procs" >&2; exit 1; }
./pressmon events last --db "$d/t.db" > /dev/null || { echo "FAIL: events" >&2; exit 1; }
echo ok

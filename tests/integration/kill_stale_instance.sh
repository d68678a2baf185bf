#!/bin/sh
# No tracefs instance is left behind: not after a normal exit, and not after
# pressmon is killed with SIGKILL and run again.  Needs root (tracefs).
set -u
: "${PRESSMON:?set PRESSMON to the pressmon binary}"
[ "$(id -u)" = 0 ] || { echo "tracefs needs root; running as uid $(id -u)" >&2; exit 77; }
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
"$PRESSMON" record --quiet --db "$d/t.db" -- true || { echo "FAIL: record true" >&2; exit 1; }
I=/sys/kernel/tracing/instances
[ -d $I ] || I=/sys/kernel/debug/tracing/instances
# Instances of pressmon processes that are gone (live ones belong to other
# recordings running on this machine at the same time).  A run's instance
# may carry the name of the dead run that made it, so this counts only
# once this test's own runs are over; an instance being removed is still
# listed until its rmdir (~40 ms) is done.
orphans() { for x in $(ls $I | grep "^pressmon-"); do [ -d "/proc/${x#pressmon-}" ] || echo "$x"; done; }
# pressmon parks its instance for a second for the next run, then a
# detached helper removes it (~40 ms of RCU grace periods): give it 5 s.
settled() { i=0; while [ -n "$(orphans)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; [ -z "$(orphans)" ]; }
settled || { echo "FAIL: instance left after a normal exit: $(orphans)" >&2; exit 1; }
"$PRESSMON" record --quiet --db "$d/t.db" -- sleep 30 &
p=$!
i=0; while [ ! -d $I/pressmon-$p ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -d $I/pressmon-$p ] || { echo "FAIL: pressmon did not create $I/pressmon-$p" >&2; kill $p; exit 1; }
c=$(pgrep -P $p)
kill -9 $p; wait $p 2>/dev/null
[ -n "$c" ] && kill $c 2>/dev/null   # the orphaned `sleep 30`, by its pid
[ -d $I/pressmon-$p ] || { echo "FAIL: the instance vanished by itself?" >&2; exit 1; }
# The next run takes the dead one's instance over (or removes it) and parks
# it when done; after the park nothing is left.
"$PRESSMON" record --quiet --db "$d/t.db" -- true
settled || { echo "FAIL: instances left: $(orphans)" >&2; exit 1; }
[ -d $I/pressmon-$p ] && { echo "FAIL: stale $I/pressmon-$p not removed" >&2; exit 1; }
# Back-to-back runs share one instance: each takes over the one the run
# before it parked, so ten quick runs leave at most two behind them (one
# may be made while the previous is still being handed over), and a kill
# in each is still attributed.
i=0
while [ $i -lt 10 ]; do
    "$PRESSMON" record --quiet --db "$d/b.db" -- sh -c 'kill -TERM $$'
    [ $? -eq 143 ] || { echo "FAIL: run $i exit status" >&2; exit 1; }
    i=$((i + 1))
done
n=$(ls $I | grep -c "^pressmon-")
[ "$n" -le 2 ] || { echo "FAIL: $n instances after 10 back-to-back runs: $(ls $I)" >&2; exit 1; }
got=$(sqlite3 "$d/b.db" "SELECT count(*) FROM procs WHERE signal = 15 AND kill_cause = 'self' AND killer_pid = pid")
[ "$got" = 10 ] || { echo "FAIL: $got of 10 self-kills attributed: $(sqlite3 "$d/b.db" "SELECT kill_cause FROM procs")" >&2; exit 1; }
settled || { echo "FAIL: instances left after the back-to-back runs: $(orphans)" >&2; exit 1; }
echo ok

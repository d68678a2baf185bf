#!/bin/sh
# A member of the tree kills a sibling with SIGKILL, then another with
# SIGTERM: the victims' exits, the signals and the sender (pid and comm) are
# recorded, and `pressmon events` shows them.  Needs root (tracefs).
set -u
: "${PRESSMON:?set PRESSMON to the pressmon binary}"
[ "$(id -u)" = 0 ] || { echo "kill attribution needs root (tracefs); running as uid $(id -u)" >&2; exit 77; }
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
db=$d/t.db
cat > "$d/killer.sh" <<'S'
#!/bin/sh
sleep 30 & v=$!
sleep 30 & w=$!
sleep 0.2
echo "$v $w" > "$DIR/pids"
kill -9 $v
kill -TERM $w
wait
exit 0
S
chmod +x "$d/killer.sh"
DIR=$d "$PRESSMON" record --quiet --db "$db" -- "$d/killer.sh"; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: exit status $rc, want 0" >&2; exit 1; }
read v w < "$d/pids"
q() { sqlite3 "$db" "$1"; }
got=$(q "SELECT signal, killer_comm, kill_cause FROM procs WHERE pid=$v")
[ "$got" = "9|killer.sh|signal in-tree" ] || { echo "FAIL: victim $v: '$got'" >&2; exit 1; }
got=$(q "SELECT signal, killer_comm, kill_cause FROM procs WHERE pid=$w")
[ "$got" = "15|killer.sh|signal in-tree" ] || { echo "FAIL: victim $w: '$got'" >&2; exit 1; }
root=$(q "SELECT pid FROM procs WHERE comm='killer.sh'")
got=$(q "SELECT count(*) FROM procs WHERE pid IN ($v,$w) AND killer_pid=$root")
[ "$got" = 2 ] || { echo "FAIL: killer_pid is not the root $root" >&2; exit 1; }
got=$(q "SELECT count(*) FROM events WHERE kind='signal' AND pid=$v AND signal=9 AND sender_pid=$root")
[ "$got" = 1 ] || { echo "FAIL: no signal event for $v" >&2; exit 1; }
q "SELECT attribution FROM runs" | grep -qx on || { echo "FAIL: runs.attribution is not on" >&2; exit 1; }
out=$("$PRESSMON" events last --db "$db")
echo "$out" | grep -q "signal SIGKILL  killer.sh\[$root\] -> sleep\[$v\]" || { echo "FAIL: events text:" >&2; echo "$out" >&2; exit 1; }
echo "$out" | grep -q "exit   $w sleep  killed by SIGTERM from killer.sh\[$root\] (in tree)" || { echo "FAIL: exit line" >&2; echo "$out" >&2; exit 1; }
"$PRESSMON" events last --db "$db" --json | python3 -c "
import json,sys
ev=json.load(sys.stdin)
k=[e for e in ev if e['kind']=='exit' and e['pid']==$v][0]
assert k['kill_cause']=='signal in-tree' and k['killer_pid']==$root and k['signame']=='SIGKILL', k
s=[e for e in ev if e['kind']=='signal' and e['pid']==$v][0]
assert s['sender_in_tree'] is True and s['code']==0, s
" || { echo "FAIL: events --json" >&2; exit 1; }
# No instance of a pressmon that is gone, once the last one's park (1 s) is
# over (live ones are other recordings on this machine).
left() { for x in $(ls /sys/kernel/tracing/instances | grep "^pressmon-"); do [ -d "/proc/${x#pressmon-}" ] || echo "$x"; done; }
i=0; while [ -n "$(left)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -z "$(left)" ] || { echo "FAIL: tracefs instances left behind: $(left)" >&2; exit 1; }
echo ok

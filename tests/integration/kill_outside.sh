#!/bin/sh
# A process outside the tree kills a member: the sender is recorded as
# outside the tree, with its pid and comm.  Needs root (tracefs).
set -u
: "${PRESSMON:?set PRESSMON to the pressmon binary}"
[ "$(id -u)" = 0 ] || { echo "kill attribution needs root (tracefs); running as uid $(id -u)" >&2; exit 77; }
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
db=$d/t.db
cat > "$d/victim.sh" <<'S'
#!/bin/sh
echo $$ > "$DIR/pid"
exec sleep 30
S
chmod +x "$d/victim.sh"
# the outside killer: a separate process with a distinctive name
( while [ ! -s "$d/pid" ]; do sleep 0.05; done; sleep 0.3; exec python3 -c "
import ctypes, os, signal
ctypes.CDLL(None).prctl(15, b'outsider', 0, 0, 0)
os.kill(int(open('$d/pid').read()), signal.SIGKILL)
print(os.getpid())" > "$d/killer" ) &
DIR=$d "$PRESSMON" record --quiet --db "$db" -- "$d/victim.sh"; rc=$?
wait
[ $rc -eq 137 ] || { echo "FAIL: exit status $rc, want 137" >&2; exit 1; }
v=$(cat "$d/pid"); k=$(cat "$d/killer")
got=$(sqlite3 "$db" "SELECT signal, killer_pid, killer_comm, kill_cause FROM procs WHERE pid=$v")
[ "$got" = "9|$k|outsider|signal outside-tree" ] || { echo "FAIL: '$got' (killer $k)" >&2; exit 1; }
"$PRESSMON" events last --db "$db" --kind exit | grep -q "killed by SIGKILL from outsider\[$k\] (outside tree)" ||
    { echo "FAIL: events"; "$PRESSMON" events last --db "$db"; exit 1; } >&2
echo ok

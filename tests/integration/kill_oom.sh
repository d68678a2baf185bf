#!/bin/sh
# A hog inside a tiny memory cgroup (8 MiB, limit set before the hog joins)
# is killed by the kernel OOM killer: recorded as kill_cause oom with an
# oom_kill event.  Needs root and a writable memory cgroup (v1 or v2).
set -u
: "${PRESSMON:?set PRESSMON to the pressmon binary}"
[ "$(id -u)" = 0 ] || { echo "needs root for a memory cgroup and tracefs; running as uid $(id -u)" >&2; exit 77; }
cg=""
if [ -w /sys/fs/cgroup/memory ] && mkdir /sys/fs/cgroup/memory/pressmon-test-$$ 2>/dev/null; then
    cg=/sys/fs/cgroup/memory/pressmon-test-$$
    echo $((8 << 20)) > $cg/memory.limit_in_bytes || { rmdir $cg; echo "cannot set memory.limit_in_bytes" >&2; exit 77; }
    echo 0 > $cg/memory.swappiness 2>/dev/null
    echo $((8 << 20)) > $cg/memory.memsw.limit_in_bytes 2>/dev/null
else
    for root in /sys/fs/cgroup/unified /sys/fs/cgroup; do
        grep -qw memory $root/cgroup.controllers 2>/dev/null || continue
        echo +memory > $root/cgroup.subtree_control 2>/dev/null
        mkdir $root/pressmon-test-$$ 2>/dev/null || continue
        cg=$root/pressmon-test-$$
        echo $((8 << 20)) > $cg/memory.max && echo 0 > $cg/memory.swap.max 2>/dev/null
        [ "$(cat $cg/memory.max)" = $((8 << 20)) ] || { rmdir $cg; cg=""; continue; }
        break
    done
fi
[ -n "$cg" ] || { echo "no writable memory cgroup (v1 /sys/fs/cgroup/memory or a v2 with the memory controller)" >&2; exit 77; }
d=$(mktemp -d); trap 'rm -rf "$d"; rmdir "$cg" 2>/dev/null' EXIT
db=$d/t.db
cat > "$d/hog.sh" <<S
#!/bin/sh
sh -c 'echo \$\$ > $cg/cgroup.procs && echo \$\$ > $d/pid && exec python3 -c "
x = []
while True: x.append(bytearray(1 << 20))"'
echo hog-exit=\$? > $d/status
exit 0
S
chmod +x "$d/hog.sh"
"$PRESSMON" record --quiet --db "$db" -- "$d/hog.sh"; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: exit status $rc" >&2; exit 1; }
grep -q hog-exit=137 "$d/status" || { echo "FAIL: the hog was not OOM-killed: $(cat $d/status)" >&2; exit 1; }
v=$(cat "$d/pid")
got=$(sqlite3 "$db" "SELECT signal, kill_cause FROM procs WHERE pid=$v")
[ "$got" = "9|oom" ] || { echo "FAIL: hog $v: '$got'" >&2; sqlite3 "$db" "select * from events" >&2; exit 1; }
got=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind='oom_kill' AND pid=$v AND detail LIKE '%pressmon-test-$$%'")
[ "$got" = 1 ] || { echo "FAIL: no oom_kill event naming the cgroup" >&2; sqlite3 "$db" "select * from events" >&2; exit 1; }
"$PRESSMON" events last --db "$db" --kind oom_kill | grep -q "oom_kill python3\[$v\]  (kernel OOM killer" ||
    { echo "FAIL: events text" >&2; "$PRESSMON" events last --db "$db" >&2; exit 1; }
echo ok

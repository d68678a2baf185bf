#!/bin/sh
# OOM kills without tracefs.  1) Root with tracefs turned off
# (PRESSMON_ATTRIBUTION=no-tracefs): the hog, in its own 8 MiB v1 memory
# cgroup, is named by /dev/kmsg.  2) pressmon unprivileged (no tracefs, no
# /dev/kmsg under dmesg_restrict) inside a 64 MiB memory cgroup with the
# hog: the cgroup's oom_kill counter ties the kill to the hog.  Both give
# kill_cause oom* and an oom_kill event with the victim's pid, and the
# kill line of `events` carries memory available and PSI.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to create memory cgroups; running as uid $(id -u)"
[ -w /sys/fs/cgroup/memory ] || skip "needs the v1 memory controller at /sys/fs/cgroup/memory (this test's cgroup setup is v1)"
command -v python3 >/dev/null || skip "needs python3 for the memory hog"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
cgs=""
trap 'rmdir $cgs 2>/dev/null; rm -rf "$T"' EXIT
mkcg() { # NAME BYTES
    mkdir "/sys/fs/cgroup/memory/$1" || fail "cannot create memory cgroup $1"
    cgs="$cgs /sys/fs/cgroup/memory/$1"
    echo "$2" > "/sys/fs/cgroup/memory/$1/memory.limit_in_bytes" || fail "cannot set the limit of $1"
    echo 0 > "/sys/fs/cgroup/memory/$1/memory.swappiness" 2>/dev/null
    echo "$2" > "/sys/fs/cgroup/memory/$1/memory.memsw.limit_in_bytes" 2>/dev/null
    return 0
}
HOG='x = []
while True: x.append(bytearray(1 << 20))'

# 1) /dev/kmsg
cg1=pressmon-kmsg-$$
mkcg $cg1 $((8 << 20))
cat > hog1.sh <<S
#!/bin/sh
sh -c 'echo \$\$ > /sys/fs/cgroup/memory/$cg1/cgroup.procs && echo \$\$ > $T/pid1 && exec python3 -c "\$1"' hog "\$1"
echo hog-exit=\$? > $T/status1
S
chmod +x hog1.sh
PRESSMON_ATTRIBUTION=no-tracefs pm record -l kmsg -- ./hog1.sh "$HOG"
expect_eq "$RC" 0 "kmsg run exit status"
expect_eq "$(cat status1)" hog-exit=137 "hog 1"
expect_contains "$ERR" "OOM kills still seen via /dev/kmsg" "notice"
v=$(cat pid1)
run=$(q "select id from runs where label='kmsg'")
expect_eq "$(q "select signal||' '||kill_cause from procs where run_id=$run and pid=$v")" "9 oom" "kmsg victim"
expect_eq "$(q "select count(*) from events where run_id=$run and kind='oom_kill' and pid=$v and detail like 'kernel OOM killer (kmsg%' and detail like '%cgroup /$cg1%'")" 1 "one kmsg oom_kill event"
expect_eq "$(q "select count(*) from events where run_id=$run and kind='oom_kill'")" 1 "no second oom_kill event (cgroup counter)"
"$PRESSMON" events last --kind oom_kill > ev1 || fail "events"
grep -q "oom_kill python3\[$v\]  (kernel OOM killer (kmsg.*mem available [0-9.]*%  psi mem some" ev1 ||
    fail "events line: $(cat ev1)"

# 2) unprivileged, the cgroup counter only
cg2=pressmon-cgoom-$$
mkcg $cg2 $((64 << 20))
cat > hog2.sh <<S
#!/bin/sh
sh -c 'echo 1000 > /proc/self/oom_score_adj; echo \$\$ > $T/pid2; exec python3 -c "\$1"' hog "\$1"
echo hog-exit=\$? > $T/status2
S
chmod +x hog2.sh
chmod 777 "$T"
rm -f "$DB"
sh -c "echo \$\$ > /sys/fs/cgroup/memory/$cg2/cgroup.procs; exec setpriv --reuid nobody --regid nogroup --clear-groups \"$PRESSMON\" record -l cgoom -- ./hog2.sh \"\$1\"" sh "$HOG" 2> err2
RC=$?
expect_eq "$RC" 0 "cgroup run exit status"
expect_eq "$(cat status2)" hog-exit=137 "hog 2"
[ -r /dev/kmsg ] && [ "$(cat /proc/sys/kernel/dmesg_restrict)" = 1 ] &&
    expect_contains "$(cat err2)" "OOM kills still seen via the cgroup oom_kill counter" "unprivileged notice"
v=$(cat pid2)
run=$(q "select id from runs where label='cgoom'")
got=$(q "select signal||' '||kill_cause||' '||killer_comm from procs where run_id=$run and pid=$v")
case "$(cat /proc/sys/kernel/dmesg_restrict)" in
1) expect_eq "$got" "9 oom (cgroup) oom-killer" "cgroup victim" ;;
*) case "$got" in "9 oom"*) ;; *) fail "cgroup victim: $got" ;; esac ;;
esac
want="%/sys/fs/cgroup/memory/$cg2/memory.oom_control%"
[ "$(cat /proc/sys/kernel/dmesg_restrict)" = 1 ] || want="%cgroup /$cg2%" # kmsg was readable: it names the victim
expect_eq "$(q "select count(*) from events where run_id=$run and kind='oom_kill' and pid=$v and detail like '$want'")" 1 "oom_kill event tied to the victim"
echo ok

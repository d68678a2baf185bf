# Without the proc connector (as in a container; forced here with
# PRESSMON_TREE=scan) the tree is followed by a /proc scan, and since Linux
# 6.15 the exit status of every grandchild, reaped by its own parent, still
# comes back through the pidfd pressmon holds for it.
. "$(dirname "$0")/lib.sh"

PRESSMON_TREE=scan "$PRESSMON" record -q -l scan -- sh -c '
    (sh -c "sleep 0.3; exit 5")
    sh -c "sleep 0.25; kill -TERM \$\$"
    sh -c "sleep 0.2; exit 6" &
    wait; exit 4'
rc=$?
expect_eq "$rc" 4 "exit status passes through in scan mode"
mech=$(q "select tree_mechanism from runs where label='scan'")
expect_contains "$mech" "proc_scan" "scan mode was used and is named"
expect_ge "$(q "select count(*) from procs p join runs r on r.id = p.run_id where r.label='scan'")" 6 "tree members found by the scan"
case "$mech" in
*pidfd*)
    r="select count(*) from procs p join runs r on r.id = p.run_id where r.label='scan' and p.status_src='pidfd'"
    expect_eq "$(q "$r and p.exit_code=5")" 1 "grandchild exit 5 via pidfd"
    expect_eq "$(q "$r and p.exit_code=6")" 1 "background grandchild exit 6 via pidfd"
    expect_eq "$(q "$r and p.signal=15")" 1 "grandchild SIGTERM via pidfd"
    expect_eq "$(q "select count(*) from procs p join runs r on r.id = p.run_id where r.label='scan' and p.status_src='unknown'")" 0 "no unknown statuses" ;;
*)
    echo "note: kernel $(uname -r) keeps no exit status in pidfds (< 6.15): statuses of grandchildren not checked" >&2 ;;
esac
echo ok

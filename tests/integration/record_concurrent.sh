# 8 recorders share one database (the seed ran 8-10 at once).
. "$(dirname "$0")/lib.sh"

pids=""
for i in 1 2 3 4 5 6 7 8; do
    "$PRESSMON" record -q -l "c$i" -- sh -c "sleep 1; exit $i" & pids="$pids $!"
done
i=0
for p in $pids; do
    i=$((i + 1)); wait "$p"; rc=$?
    expect_eq "$rc" "$i" "recorder $i exit status"
done
expect_eq "$(q "select count(*) from runs where state='done'")" 8 "all 8 runs done"
bad=$(q "select count(*) from runs r where samples != (select count(*) from samples s where s.run_id = r.id)")
expect_eq "$bad" 0 "every run has all its samples"
expect_eq "$(q "select min(samples) >= 50 from runs")" 1 "each run sampled"
expect_eq "$(q "select sum(dropped) from runs")" 0 "nothing dropped"
expect_eq "$(q "pragma integrity_check")" ok "integrity"
echo ok

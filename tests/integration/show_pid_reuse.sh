# A pid handed out twice within one run belongs to two processes: `show`
# does not lend the first one's memory to the second.  The second gets the
# same pid through /proc/sys/kernel/ns_last_pid (root).
. "$(dirname "$0")/lib.sh"

[ -w /proc/sys/kernel/ns_last_pid ] || skip "cannot choose the next pid (needs root: /proc/sys/kernel/ns_last_pid)"
pm record -q -l reuse -p 20ms -- sh -c '
  sh -c "x=\$(head -c 30000000 /dev/zero | tr \"\\\\0\" a); sleep 0.4" &
  p=$!; wait
  echo $((p - 1)) > /proc/sys/kernel/ns_last_pid
  sleep 0.4 &
  q=$!; wait
  echo "$p $q" > pids'
expect_eq "$RC" 0 "exits 0"
read -r p q < pids
[ "$p" = "$q" ] || skip "pid $p was not handed out again (got $q): another process took it"
run=$(q "select id from runs where label='reuse'")
expect_eq "$(q "select group_concat(comm, ' ') from (select comm from procs where run_id=$run and pid=$p order by id)")" "sh sleep" "two processes with pid $p"
pm show label:reuse
# The root sh ranks first by its wait4 figure, which covers the children it
# waited for (the 30 MB shell among them): the first line of pid $p is the
# one to check.
top=$(printf '%s\n' "$OUT" | grep -E "(top procs| {10}) " | grep "pid $p " | head -1)
expect_contains "$top" "pid $p " "the 30 MB shell is listed"
expect_contains "$top" " sh " "it is the shell, not the sleep that reused its pid"
pm show label:reuse --json
big=$(printf '%s' "$OUT" | python3 -c 'import json, sys
p = int(sys.argv[1])
print(" ".join("%s:%d" % (x["comm"], x.get("max_sampled_rss_bytes", 0) > 20e6) for x in json.load(sys.stdin)["top_processes"] if x["pid"] == p))' "$p")
case "$big" in "sh:1"*) ;; *) fail "the shell of pid $p holds the 30 MB, the sleep does not: $big" ;; esac
case "$big" in *"sleep:1"*) fail "the sleep that reused pid $p was lent the shell's memory: $big" ;; esac
echo ok

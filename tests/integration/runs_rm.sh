# pressmon rm and prune on real recordings in a real database: every
# selector kind, prune --keep and --older-than, --dry-run, the usage errors
# (nothing deleted), a run being recorded (refused, and its recorder keeps
# every sample while a large run is deleted beside it), --vacuum, and
# integrity afterwards; a run deleted by hand with the sqlite3 shell (its
# id not given out again, its rows removed by prune).
. "$(dirname "$0")/lib.sh"

# sqlite3 with a busy timeout: recorders write alongside in places.
qq() { sqlite3 -batch -noheader -cmd ".timeout 10000" "$DB" "$1"; }
uid() { qq "select uid from runs where label = '$1' order by started_at desc limit 1"; }
id_of() { qq "select id from runs where uid = '$1'"; }

# The per-run tables, found as the schema defines them (every table with a
# run_id column), not from a list: a table added later is checked too.
tables() { qq "select m.name from sqlite_master m, pragma_table_info(m.name) p where m.type = 'table' and p.name = 'run_id' order by 1"; }
# rows_of ID: rows of run ID in every per-run table, and in runs
rows_of() {
    _n=$(qq "select count(*) from runs where id = $1")
    for _t in $(tables); do _n=$((_n + $(qq "select count(*) from \"$_t\" where run_id = $1"))); done
    echo "$_n"
}
# gone ID WHAT: no table keeps a row of run ID
gone() {
    expect_eq "$(qq "select count(*) from runs where id = $1")" 0 "$2: its row in runs"
    for _t in $(tables); do
        expect_eq "$(qq "select count(*) from \"$_t\" where run_id = $1")" 0 "$2: rows left in $_t"
    done
}
# everything: a fingerprint of the whole database's content
everything() {
    _s="runs=$(qq "select group_concat(uid) from (select uid from runs order by uid)") hosts=$(qq "select count(*) from hosts") metrics=$(qq "select count(*) from metrics")"
    for _t in $(tables); do _s="$_s $_t=$(qq "select count(*) from \"$_t\"")"; done
    echo "$_s"
}

rec() { "$PRESSMON" record -q "$@" || :; }
rec -l a -t k=v -- sh -c 'sleep 5 & sleep 0.2; kill -9 $!; wait'
rec -l b -- sh -c 'sleep 0.2 & wait'
rec -l grp -- sleep 0.2
rec -l grp -- sleep 0.2
rec -l d -- sh -c 'sleep 0.2; exit 3'
rec -l keep -- sh -c 'sleep 0.2 & wait'
A=$(uid a) B=$(uid b) D=$(uid d) K=$(uid keep)
for t in samples procs proc_samples events run_tags; do
    tables | grep -qx "$t" || fail "table $t has no run_id column? the table list is wrong"
done
# Kill events need attribution (root); without it, a notice stands in.
[ "$(qq "select count(*) from events where run_id = $(id_of "$A")")" -gt 0 ] ||
    qq "insert into events(run_id, t_ns, kind, detail) values ($(id_of "$A"), 1, 'notice', 'planted')"
for t in samples procs proc_samples events run_tags; do
    expect_ge "$(qq "select count(*) from $t where run_id = $(id_of "$A")")" 1 "run a has rows in $t"
done
HOSTS=$(qq "select count(*) from hosts") METRICS=$(qq "select count(*) from metrics")
ROWS_K=$(rows_of "$(id_of "$K")")

# ---- help, usage errors and nothing matched: nothing deleted --------------
pm rm --help
expect_eq "$RC" 0 "rm --help"
expect_contains "$OUT" "usage: pressmon rm" "rm --help"
pm prune --help
expect_contains "$OUT" "--older-than" "prune --help"
pm --help
expect_contains "$OUT" "prune" "pressmon --help lists prune"
before=$(everything)
bad() { # bad STATUS MESSAGE ARGS...: exits STATUS, says MESSAGE, deletes nothing
    _want=$1 _msg=$2; shift 2
    pm "$@"
    expect_eq "$RC" "$_want" "pressmon $* exit status (stderr: $ERR)"
    expect_contains "$ERR" "$_msg" "pressmon $* message"
    expect_eq "$(everything)" "$before" "pressmon $* deleted nothing"
}
bad 2 "give the runs to delete" rm
bad 2 "not a run id" rm foo:bar
bad 2 "last~N" rm last~x
bad 2 "outcome:fail and outcome:pass" rm outcome:maybe
bad 2 "give a label" rm label:
bad 2 "not a run id" rm "$A" "x'; drop table runs; --"
bad 2 "unknown or incomplete option" rm --bogus "$A"
bad 2 "belongs to 'pressmon prune'" rm --keep 1 "$A"
bad 1 "no run '01ZZZZZZ'" rm 01ZZZZZZ
bad 1 "no run '01ZZZZZZ'" rm "$A" 01ZZZZZZ
bad 1 "matches no run" rm label:nobody
bad 2 "--keep N or --older-than" prune
bad 2 "bad --keep '-1'" prune --keep -1
bad 2 "bad --keep 'x'" prune --keep x
bad 2 "not both" prune --keep 1 --older-than 1d
bad 2 "bad --older-than '7x'" prune --older-than 7x
bad 2 "bad --older-than '7': give a unit, as in 7d" prune --older-than 7
bad 2 "unexpected argument" prune --keep 1 "$A"

# ---- --dry-run lists and deletes nothing -----------------------------------
pm rm --dry-run label:grp
expect_eq "$RC" 0 "rm --dry-run status"
expect_eq "$(printf '%s\n' "$OUT" | grep -c '^would delete  *01')" 2 "rm --dry-run lists the group's 2 runs"
expect_contains "$OUT" "nothing was deleted" "rm --dry-run says so"
pm prune -n --keep 0
expect_eq "$(printf '%s\n' "$OUT" | grep -c '^would delete  *01')" 6 "prune --dry-run --keep 0 lists every run"
pm prune --dry-run --older-than 0s --vacuum
expect_eq "$(everything)" "$before" "--dry-run deleted nothing"

# ---- rm by id, prefix, group, outcome --------------------------------------
ida=$(id_of "$A")
pm rm "$A"
expect_eq "$RC" 0 "rm ID status ($ERR)"
expect_contains "$OUT" "deleted      $A  a " "rm prints the run, its label"
expect_contains "$OUT" "$(date +%Y-)" "rm prints the start"
gone "$ida" "rm ID"
expect_eq "$(rows_of "$(id_of "$K")")" "$ROWS_K" "another run keeps all its rows"

idb=$(id_of "$B")
prefix=$(printf '%s' "$B" | cut -c1-12 | tr 'A-Z' 'a-z')
pm rm -q "$prefix"
expect_eq "$RC" 0 "rm PREFIX status ($ERR)"
expect_eq "$OUT" "" "rm -q prints nothing"
gone "$idb" "rm lowercase unique prefix"

ids=$(qq "select group_concat(id, ' ') from runs where label = 'grp'")
pm rm --json label:grp
expect_eq "$RC" 0 "rm label:NAME status"
for i in $ids; do gone "$i" "rm label:grp (every run with the label)"; done
printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d["deleted"]) == 2 and all(r["label"] == "grp" and r["rows"] > 0 for r in d["deleted"]), d
assert d["recording"] == [] and d["dry_run"] is False and d["rows"] >= 2, d
' || fail "rm --json: $OUT"

idd=$(id_of "$D")
pm rm outcome:fail
expect_eq "$RC" 0 "rm outcome:fail status"
gone "$idd" "rm outcome:fail"
expect_eq "$(qq "select group_concat(label) from runs")" "keep" "only the run labelled keep is left"
expect_eq "$(rows_of "$(id_of "$K")")" "$ROWS_K" "the kept run is whole"
expect_eq "$(qq "select count(*) from hosts")" "$HOSTS" "hosts stay"
expect_eq "$(qq "select count(*) from metrics")" "$METRICS" "the metric catalog stays"

# ---- prune --keep -----------------------------------------------------------
for i in 1 2 3; do rec -l "p$i" -- sleep 0.1; done
old=$(qq "select group_concat(id, ' ') from runs where label in ('keep', 'p1')")
pm prune --keep 2
expect_eq "$RC" 0 "prune --keep 2 status ($ERR)"
expect_eq "$(qq "select group_concat(label) from (select label from runs order by started_at)")" "p2,p3" \
    "prune --keep 2 keeps the 2 newest"
for i in $old; do gone "$i" "prune --keep"; done
pm prune --keep 2
expect_eq "$RC" 0 "prune with nothing to prune"
expect_contains "$OUT" "nothing to prune" "prune says there was nothing to do"

# ---- prune --older-than (a start rewritten 8 days back) --------------------
qq "update runs set started_at = started_at - 8 * 86400 * 1000000000 where label = 'p2'"
idp2=$(qq "select id from runs where label = 'p2'")
pm prune --older-than 9d
expect_eq "$RC" 0 "prune --older-than 9d status"
expect_eq "$(qq "select count(*) from runs")" 2 "nothing is 9 days old"
pm prune --older-than 7d
expect_eq "$RC" 0 "prune --older-than 7d status ($ERR)"
expect_contains "$OUT" "deleted" "prune --older-than prints what it deleted"
gone "$idp2" "prune --older-than 7d"
expect_eq "$(qq "select group_concat(label) from runs")" "p3" "the recent run stays"

# ---- a run being recorded, and a large run deleted while it records --------
rec -l big -- sleep 0.5
BIG=$(uid big) idbig=$(id_of "$BIG")
cols=$(qq "select group_concat(name, ', ') from pragma_table_info('samples') where name not in ('run_id', 't_ns')")
qq "with recursive k(i) as (select 1 union all select i + 1 from k where i < 5000)
    insert into samples(run_id, t_ns, $cols)
    select s.run_id, s.t_ns + k.i * 1000000000, $cols from k, samples s where s.run_id = $idbig limit 250000"
expect_ge "$(qq "select count(*) from samples where run_id = $idbig")" 250000 "the large run's samples"
size_big=$(stat -c %s "$DB")

"$PRESSMON" record -q -l live -- sleep 5 2>"$T/live.err" &
live_pid=$!
i=0
while [ "$(qq "select count(*) from runs where label = 'live' and state = 'recording'")" != 1 ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "the live run's row never appeared"
    sleep 0.05
done
LIVE=$(uid live) idlive=$(id_of "$LIVE")
sleep 0.3
rows_live=$(rows_of "$idlive")
pm rm "$LIVE"
expect_eq "$RC" 1 "rm of a run being recorded fails"
expect_contains "$ERR" "is being recorded (pressmon pid $live_pid): not deleted" "rm says why"
expect_ge "$(rows_of "$idlive")" "$rows_live" "the live run keeps its rows"
# the large run goes while the recorder writes; the live run is refused
pm rm --vacuum "$BIG" label:live
expect_eq "$RC" 1 "rm of a live and a finished run: 1"
expect_contains "$OUT" "deleted      $BIG" "the finished run is deleted"
expect_contains "$ERR" "not deleted" "the live one is refused"
expect_contains "$ERR" "not vacuumed" "no VACUUM while a run is being recorded"
gone "$idbig" "rm beside a recorder"
pm prune --keep 0
expect_eq "$RC" 0 "prune --keep 0 with a live run: 0"
expect_contains "$ERR" "is being recorded (pressmon pid $live_pid): kept" "prune says it kept the live run"
expect_eq "$(qq "select group_concat(label) from runs")" "live" "prune deleted every other run"
kill -0 "$live_pid" 2>/dev/null || fail "the recorder finished before rm/prune were done: the test proves nothing"

wait "$live_pid"
expect_eq "$?" 0 "the recorder's status"
expect_eq "$(cat "$T/live.err")" "" "the recorder said nothing (no database error)"
expect_eq "$(qq "select state from runs where id = $idlive")" done "the live run finished"
expect_eq "$(qq "select dropped from runs where id = $idlive")" 0 "the recorder dropped nothing"
expect_eq "$(qq "select samples = (select count(*) from samples where run_id = $idlive) from runs where id = $idlive")" 1 \
    "every sample the recorder took is stored"
expect_ge "$(qq "select samples from runs where id = $idlive")" 400 "5 s at 100 Hz"
expect_eq "$(qq "pragma integrity_check")" ok "integrity after deleting beside a recorder"

# ---- --vacuum gives the space back -----------------------------------------
size_before=$(stat -c %s "$DB")
pm prune --vacuum
expect_eq "$RC" 0 "prune --vacuum status ($ERR)"
size_after=$(stat -c %s "$DB")
expect_contains "$OUT" "vacuumed $DB" "prune --vacuum says what it did"
[ "$size_after" -lt $((size_before - 10000000)) ] ||
    fail "VACUUM: $DB went from $size_before to $size_after bytes (the large run alone was $size_big)"
given=$(printf '%s\n' "$OUT" | sed -n 's/.*, \([0-9]*\) bytes given back.*/\1/p')
expect_ge "$given" 10000000 "the bytes given back, as printed"
pm rm --vacuum --json "$LIVE"
expect_eq "$RC" 0 "rm --vacuum --json"
printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = d["vacuum"]
assert v["shrank_bytes"] == v["file_bytes_before"] + v["wal_bytes_before"] - v["file_bytes_after"] - v["wal_bytes_after"], v
assert v["wal_bytes_after"] == 0 and v["file_bytes_after"] > 0, v
' || fail "rm --vacuum --json: $OUT"
gone "$idlive" "rm after the recording ended"
expect_eq "$(qq "select count(*) from runs")" 0 "no runs left"
expect_eq "$(qq "select count(*) from hosts")" "$HOSTS" "hosts stay"
expect_eq "$(qq "pragma integrity_check")" ok "integrity at the end"
pm runs
expect_eq "$RC" 0 "runs on the emptied database"

# ---- runs deleted by hand ---------------------------------------------------
# The sqlite3 shell does not enforce foreign keys: deleting a run's row by
# hand leaves its samples, processes and events.  The next run must not
# take its id (and them with it), and prune removes them.
rec -l first -- sh -c 'sleep 0.3 & wait'
rec -l hand -- sh -c 'sleep 0.3 & wait'
HAND=$(id_of "$(uid hand)") FIRST=$(id_of "$(uid first)")
ROWS_HAND=$(($(rows_of "$HAND") - 1)) ROWS_FIRST=$(rows_of "$FIRST")
expect_ge "$ROWS_HAND" 30 "the run deleted by hand had rows"
qq "delete from runs where id = $HAND"
expect_eq "$(rows_of "$HAND")" "$ROWS_HAND" "sqlite3 left the rows of the run it deleted"
rec -l after -- sh -c 'sleep 0.3 & wait'
AFTER=$(id_of "$(uid after)")
[ "$AFTER" -gt "$HAND" ] || fail "the new run took id $AFTER, the hand-deleted run's ($HAND)"
expect_eq "$(qq "select samples = (select count(*) from samples where run_id = $AFTER) from runs where id = $AFTER")" 1 \
    "the new run holds its own samples only"
ROWS_AFTER=$(rows_of "$AFTER")
before=$(everything)
pm prune --keep 10 --dry-run
expect_eq "$RC" 0 "prune --dry-run ($ERR)"
expect_contains "$OUT" "would remove $ROWS_HAND rows left by 1 run deleted by hand" "prune --dry-run counts them"
expect_eq "$(everything)" "$before" "--dry-run removed nothing"
pm prune --keep 10 --json
expect_eq "$RC" 0 "prune --json ($ERR)"
printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["orphans"] == {"runs": 1, "rows": int(sys.argv[1])}, d
assert d["deleted"] == [], d
' "$ROWS_HAND" || fail "prune --json: $OUT"
gone "$HAND" "prune after a run was deleted by hand"
expect_eq "$(rows_of "$FIRST")" "$ROWS_FIRST" "the other runs keep their rows"
expect_eq "$(rows_of "$AFTER")" "$ROWS_AFTER" "the run after keeps its rows"
pm prune --keep 10
expect_eq "$OUT" "nothing to prune: $DB holds 10 runs or fewer" "a second prune finds nothing"
expect_eq "$(qq "pragma integrity_check")" ok "integrity after removing the rows of a hand-deleted run"
echo ok

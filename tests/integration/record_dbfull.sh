# The disk fills while recording: pressmon says so once, the command runs to
# its end, and its exit status comes back.  Needs root for a tiny tmpfs.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs (running as uid $(id -u))"
mkdir "$T/small"
mount -t tmpfs -o size=600k tmpfs "$T/small" 2>/dev/null || skip "cannot mount tmpfs here"
trap 'umount "$T/small" 2>/dev/null; rm -rf "$T"' EXIT
db=$T/small/full.db

"$PRESSMON" record --db "$db" -i 1ms -- sh -c 'sleep 3; echo child-finished; exit 7' >"$T/out" 2>"$T/err"
rc=$?
expect_eq "$rc" 7 "the child's status despite the full disk"
expect_eq "$(cat "$T/out")" child-finished "the child ran to its end"
n=$(grep -c "cannot write to the database" "$T/err")
expect_eq "$n" 1 "the failure is said exactly once"
grep "cannot write to the database" "$T/err" | grep -q "$db: .*full" || fail "the message names the file and the cause: $(cat "$T/err")"
# What was committed before the disk filled is still readable.
[ "$(sqlite3 "$db" 'pragma integrity_check')" = ok ] || fail "integrity after ENOSPC"
# runs and show say exactly what the samples table holds: samples taken,
# of them stored, and the difference as lost (runs said 602 samples for
# 326 rows, and show "225 dropped", before).
stored=$(sqlite3 "$db" "select count(*) from samples")
taken=$(sqlite3 "$db" "select samples from runs")
[ "$stored" -lt "$taken" ] || fail "the disk filled, yet every sample was stored? ($stored of $taken)"
lost=$((taken - stored))
pm runs --db "$db" --json
expect_eq "$RC" 0 "runs after ENOSPC"
expect_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["samples"], r["samples_stored"], r["samples_lost"])')" \
    "$taken $stored $lost" "runs --json: taken, stored, lost"
pm runs --db "$db"
expect_contains "$OUT" "$taken ($lost lost)" "runs marks the lost samples"
pm show last --db "$db" --json
expect_eq "$(printf '%s' "$OUT" | python3 -c 'import json,sys; s=json.load(sys.stdin)["sampling"]; print(s["samples"], s["samples_stored"], s["samples_lost"])')" \
    "$taken $stored $lost" "show --json: taken, stored, lost"
pm show last --db "$db"
expect_contains "$OUT" "$taken samples ($stored stored, $lost lost)" "show's sampling line"
# A database closed cleanly on a disk that is full: reading it fails for what
# it is (SQLite cannot make its -shm file beside it), not as "not a pressmon
# database".
mkdir "$T/small2"
mount -t tmpfs -o size=400k tmpfs "$T/small2" || fail "second tmpfs"
trap 'umount "$T/small" "$T/small2" 2>/dev/null; rm -rf "$T"' EXIT
pm record -q -- true
expect_eq "$RC" 0 "a run to copy"
cp "$DB" "$T/small2/copy.db"
dd if=/dev/zero of="$T/small2/pad" bs=4k 2>/dev/null
pm runs --db "$T/small2/copy.db"
expect_eq "$RC" 1 "runs on a full disk"
expect_contains "$ERR" "is the disk full" "runs on a full disk says why"
case "$ERR" in *"not a pressmon database"*) fail "a full disk called a foreign file: $ERR" ;; esac
echo ok

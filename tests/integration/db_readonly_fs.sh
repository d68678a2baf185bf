#!/bin/sh
# A database on a read-only file system (a CI artifact on a read-only
# mount): every reading command reads it (SQLite's immutable mode, since
# WAL cannot create its -shm file there), and record refuses the mount as
# read-only, with exit 125, before the command starts.  Needs root (mount).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to mount a read-only file system"
command -v mount >/dev/null && command -v umount >/dev/null || skip "no mount/umount"
mkdir "$T/rox" "$T/rw" "$T/robind"
trap 'umount "$T/robind" 2>/dev/null; umount "$T/rox" 2>/dev/null; rm -rf "$T"' EXIT
mount -t tmpfs tmpfs "$T/rox" 2>/dev/null || skip "cannot mount a tmpfs here (no CAP_SYS_ADMIN?)"

pm record -q -l first -- sh -c 'sleep 0.2 & kill -9 $!; wait; exit 3'
expect_eq "$RC" 3 "record"
pm record -q -l second -- sleep 0.1
expect_eq "$RC" 0 "record"
cp "$DB" "$T/rox/x.db"
mount -o remount,ro "$T/rox" || skip "cannot remount the tmpfs read-only"
ro=$T/rox/x.db

# Every reading command answers as on the original file.
for args in "runs" "show last~1" "events last~1" "diff last~1 last" "export last~1 --format csv" \
    "export last --format jsonl" "runs --json" "show last --json" "events last~1 --json"; do
    # shellcheck disable=SC2086
    pm $args --db "$ro"
    expect_eq "$RC" 0 "$args on a read-only file system: $ERR"
    expect_eq "$ERR" "" "$args on a read-only file system prints no error"
    got=$OUT
    # shellcheck disable=SC2086
    pm $args
    expect_eq "$got" "$(printf '%s' "$OUT" | sed "s|$DB|$ro|g")" "$args reads the same as on the original"
done
pm show last --db "$ro"
expect_contains "$OUT" "second" "show reads the run"
# push gets past opening the database (the server is a closed port).
pm push last --db "$ro" --to http://127.0.0.1:1/api/v1/write --retries 0 --connect-timeout 1s
expect_eq "$RC" 1 "push to a closed port"
case "$ERR" in *"cannot read"* | *"cannot open"*) fail "push could not read the database: $ERR" ;; esac
ls -a "$T/rox" >"$T/ls"
expect_eq "$(grep -c -- '-wal\|-shm' "$T/ls")" 0 "nothing was created beside it"
# rm refuses, saying why; prune --dry-run lists.
pm rm last --db "$ro"
expect_eq "$RC" 1 "rm on a read-only file system"
expect_contains "$ERR" "file system is read-only" "rm says the file system is read-only"
pm prune --dry-run --keep 0 --db "$ro"
expect_eq "$RC" 0 "prune --dry-run on a read-only file system"
expect_contains "$OUT" "would delete 2 runs" "prune --dry-run lists both runs"

# record: a new file, and the existing one, on the read-only mount: exit 125,
# "read-only", the command never started.
for db in "$T/rox/new.db" "$ro"; do
    pm record --db "$db" -- sh -c "touch '$T/started'"
    expect_eq "$RC" 125 "record into $db on a read-only file system"
    expect_contains "$ERR" "read-only" "record says the file system is read-only"
    case "$ERR" in *"No such file"*) fail "record blames a missing file: $ERR" ;; esac
    [ ! -e "$T/started" ] || fail "record started the command although it could not record"
done

# A -wal file left beside the copy (taken while a recorder had the file
# open): read without it, and said so.
umount "$T/rox"
mount -t tmpfs tmpfs "$T/rox"
cp "$DB" "$T/rox/x.db"
python3 - "$T/rox/x.db" "$T/rox/snap" <<'PY'
import os, shutil, sqlite3, sys
db, snap = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("UPDATE runs SET label = 'in-wal' WHERE label = 'second'")
c.commit()
os.mkdir(snap)
for f in (db, db + "-wal"):  # the copy leaves -shm behind
    shutil.copy(f, os.path.join(snap, os.path.basename(f)))
c.close()
PY
mount -o remount,ro "$T/rox"
pm runs --db "$T/rox/snap/x.db"
expect_eq "$RC" 0 "runs with an unread -wal"
expect_contains "$ERR" "note: " "runs notes the -wal it cannot read"
expect_contains "$ERR" "x.db-wal" "the note names the -wal file"

# A read-only bind mount of a writable directory reads the same way.
cp "$DB" "$T/rw/x.db"
if mount --bind "$T/rw" "$T/robind" 2>/dev/null && mount -o remount,bind,ro "$T/robind" 2>/dev/null; then
    pm runs --db "$T/robind/x.db"
    expect_eq "$RC" 0 "runs on a read-only bind mount: $ERR"
    expect_contains "$OUT" "second" "runs lists the runs"
fi

# Not immutable where the file system is writable and only this user may not
# write: a recorder may be writing the file.  As another user, in a
# directory they may not write, the open fails as before.
if command -v setpriv >/dev/null; then
    mkdir "$T/locked"
    cp "$DB" "$T/locked/x.db"
    chmod 755 "$T" "$T/locked"
    chmod 644 "$T/locked/x.db"
    ERR=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PRESSMON" runs --db "$T/locked/x.db" 2>&1 >/dev/null)
    RC=$?
    expect_eq "$RC" 1 "runs as another user in a directory they cannot write (not read as immutable)"
    expect_contains "$ERR" "cannot read $T/locked/x.db" "the error names the file"
fi
echo ok

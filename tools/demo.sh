#!/bin/sh
# make demo: record the bundled stress example and a calm run, then show,
# list its events and diff the two.  Uses build/demo.db (removed first).
set -eu
pm=$1
db=build/demo.db
rm -f "$db" "$db-wal" "$db-shm"
export PRESSMON_DB=$db
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say "pressmon record --label stress -- examples/stress.sh --fail"
"$pm" record --label stress -- examples/stress.sh --fail || echo "(exit status $? passed through from the script)"
say "pressmon record --label calm -- sleep 3"
"$pm" record --label calm -- sleep 3
say "pressmon runs"
"$pm" runs
say "pressmon show label:stress"
"$pm" show label:stress
say "pressmon events label:stress --kind signal,oom_kill,exit"
"$pm" events label:stress --kind signal,oom_kill,exit
say "pressmon diff label:stress label:calm"
"$pm" diff label:stress label:calm
printf '\nThe database is %s: open it with sqlite3, e.g.\n  sqlite3 %s "select * from run_summary"\n' "$db" "$db"

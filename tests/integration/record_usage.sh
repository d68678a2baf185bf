# Bad input: clear messages, documented exit codes, nothing started.
. "$(dirname "$0")/lib.sh"

pm record --bogus -- true;                 expect_eq "$RC" 125 "record unknown option"
expect_contains "$ERR" "--bogus" "names the option"
pm record -i 0ms -- true;                  expect_eq "$RC" 125 "interval too small"
pm record -i 61s -- true;                  expect_eq "$RC" 125 "interval too large"
pm record -i banana -- true;               expect_eq "$RC" 125 "interval garbage"
expect_contains "$ERR" "banana" "names the bad value"
pm record -p 5x -- true;                   expect_eq "$RC" 125 "proc interval garbage"
pm record --duration -3s;                  expect_eq "$RC" 125 "negative duration"
pm record;                                 expect_eq "$RC" 125 "nothing to record"
# Every duration needs a unit: a bare number meant ms for -i, s for -D.
for o in -i --interval -p --proc-interval --commit-interval; do
    pm record "$o" 1 -- sh -c 'touch started'
    expect_eq "$RC" 125 "record $o 1 (no unit)"
    expect_contains "$ERR" "bad $(echo "$o" | sed 's/^-i$/--interval/; s/^-p$/--proc-interval/') '1': give a unit, as in" \
        "record $o 1 asks for a unit"
    [ ! -e started ] || fail "record $o 1 ran the command"
done
pm record -i 1 -- true
expect_contains "$ERR" "bad --interval '1': give a unit, as in 10ms or 1s" "the message shows the value and an example"
pm record -D 1;                            expect_eq "$RC" 125 "record -D 1 (no unit)"
expect_contains "$ERR" "bad --duration '1': give a unit" "record -D 1 asks for a unit"
pm record --duration 0.5;                  expect_eq "$RC" 125 "record --duration 0.5 (no unit)"
pm prune --older-than 7;                   expect_eq "$RC" 2 "prune --older-than 7 (no unit)"
expect_contains "$ERR" "bad --older-than '7': give a unit, as in 7d" "prune asks for a unit"
pm push last --to http://127.0.0.1:1/api/v1/write --timeout 5
expect_eq "$RC" 2 "push --timeout 5 (no unit)"
expect_contains "$ERR" "bad --timeout '5': give a unit" "push asks for a unit"
pm push last --to http://127.0.0.1:1/api/v1/write --connect-timeout 5
expect_eq "$RC" 2 "push --connect-timeout 5 (no unit)"
pm record --duration 1s -- true;           expect_eq "$RC" 125 "duration with a command"
pm record --tag novalue -- true;           expect_eq "$RC" 125 "bad tag"
pm runs --bogus;                           expect_eq "$RC" 2 "runs unknown option"
pm show;                                   expect_eq "$RC" 2 "show without RUN"
pm nosuchcommand;                          expect_eq "$RC" 2 "unknown command"
pm --version;                              expect_eq "$RC" 0 "--version"
expect_contains "$OUT" "pressmon " "version text"
for c in record runs show; do
    pm "$c" --help; expect_eq "$RC" 0 "$c --help"; expect_contains "$OUT" "usage: pressmon $c" "$c help text"
done

# An unwritable database fails before the child starts, with exit 125 and the path.
mkdir ro && chmod 555 ro
if [ "$(id -u)" = 0 ]; then
    # root ignores directory permissions: use a path under a file instead
    touch notadir; bad=notadir/x.db
else
    bad=ro/x.db
fi
pm record --db "$bad" -- sh -c 'touch started'
expect_eq "$RC" 125 "unwritable db"
expect_contains "$ERR" "$bad" "message names the path"
[ ! -e started ] || fail "the child ran although the database could not be opened"
# A file that is not a database is refused and left alone.
echo "precious text" > notes.txt
pm record --db notes.txt -- true;          expect_eq "$RC" 125 "not a database"
expect_eq "$(cat notes.txt)" "precious text" "foreign file untouched"
# Reading commands on a missing database: exit 1 and a hint.
pm runs --db missing.db;                   expect_eq "$RC" 1 "runs on missing db"
expect_contains "$ERR" "missing.db" "names the missing db"
echo ok

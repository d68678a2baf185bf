#!/bin/sh
# events --kind: a comma list, repeatable; an unknown kind is a usage error
# (exit 2) that lists the valid ones.  And make demo runs the commands it
# prints.
demo=$(cd "$(dirname "$0")/../../tools" && pwd)/demo.sh
. "$(dirname "$0")/lib.sh"

# A tree with a fork, a clean exit and a child killed by SIGKILL.
pm record -q -l k -- sh -c 'sleep 5 & kill -9 $!; wait; exit 0'
expect_eq "$RC" 0 "record"

kinds() { # kinds ARGS...: the sorted distinct kinds events prints with --json
    "$PRESSMON" events last --json "$@" | python3 -c '
import json, sys
print(" ".join(sorted({e["kind"] for e in json.load(sys.stdin)})))'
}
# signal rows only where tracefs is readable (root)
all=$(kinds)
case "$all" in "exec exit fork" | "exec exit fork signal") ;; *) fail "all kinds: $all" ;; esac
expect_eq "$(kinds --kind exit)" "exit" "--kind exit"
expect_eq "$(kinds --kind fork,exit)" "exit fork" "--kind fork,exit"
expect_eq "$(kinds -k fork -k exit)" "exit fork" "-k fork -k exit (repeated)"
expect_eq "$(kinds --kind signal,exit)" "$(echo "$all" | sed 's/exec //; s/fork //')" "--kind signal,exit"
expect_eq "$(kinds --kind signal,exit)" "$(kinds --kind exit,signal,exit)" "order and repeats do not matter"
pm events last --kind signal,exit
expect_eq "$RC" 0 "--kind signal,exit exits 0"
expect_contains "$OUT" "killed by SIGKILL" "--kind signal,exit shows the kill"
expect_contains "$OUT" "exit 0" "--kind signal,exit shows the clean exit"
case "$OUT" in *" fork "* | *" exec "*) fail "--kind signal,exit shows other kinds: $OUT" ;; esac
# text and --json agree
expect_eq "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" \
    "$("$PRESSMON" events last --json --kind signal,exit | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" \
    "text and --json list the same events"

for bad in bogus kill forward signal,bogus exit, ,exit '' EXIT; do
    pm events last --kind "$bad"
    expect_eq "$RC" 2 "--kind '$bad' is a usage error"
    expect_contains "$ERR" "unknown --kind" "--kind '$bad' says why"
    expect_contains "$ERR" "exec, fork, exit, signal, oom_kill" "--kind '$bad' lists the valid kinds"
    expect_eq "$OUT" "" "--kind '$bad' prints no events"
done
pm events last -k exit -k bogus
expect_eq "$RC" 2 "a bad repeated -k is a usage error"

pm events --help
expect_eq "$RC" 0 "events --help"
expect_contains "$OUT" "usage: pressmon events [options] RUN" "events --help has the usage line of the others"
expect_contains "$OUT" "options:" "events --help lists options like the others"
expect_contains "$OUT" "comma list; repeatable" "events --help says --kind takes a list"
expect_contains "$OUT" "sampler_gap" "events --help lists the kinds"
pm export --help
expect_contains "$OUT" "usage: pressmon export [options] RUN" "export --help has the usage line of the others"
expect_contains "$OUT" "  -h, --help           this text" "export --help lists -h like the others"

# tools/demo.sh: each command it shows ("say ...") is the one it runs next.
[ -f "$demo" ] || fail "no $demo"
awk '
/^say "pressmon / { s = $0; sub(/^say "pressmon /, "", s); sub(/"$/, "", s); want = s; next }
want != "" && /^"\$pm" / {
    r = $0; sub(/^"\$pm" /, "", r); sub(/ \|\|.*$/, "", r)
    if (r != want) { print "demo shows \"pressmon " want "\" but runs \"" r "\""; bad = 1 }
    want = ""
}
END { exit bad }' "$demo" >"$T/demo.out" || fail "$(cat "$T/demo.out")"
echo ok

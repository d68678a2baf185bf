# The signals a terminal sends (Ctrl-C, Ctrl-\, its hangup) are reported
# as the terminal's, not as "the kernel" (the tty layer sends them with
# SI_KERNEL from a kworker): in the summary, `show`, `events` and --json.
# A real pty from script(1).  Needs root (tracefs).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "kill attribution needs root (tracefs); running as uid $(id -u)"
command -v script >/dev/null || skip "script(1) not installed (bsdutils)"
command -v python3 >/dev/null || skip "python3 not installed"

(sleep 1; printf '\003'; sleep 1) | script -qfec "$PRESSMON record --db $DB -l int -- sleep 30" "$T/ts" >/dev/null 2>&1
expect_eq "$?" 130 "Ctrl-C: 128 + SIGINT"
attr=$(q "select attribution from runs where label='int'")
[ "$attr" = on ] || skip "kill attribution is off here: $attr"
expect_contains "$(tr -d '\r' <"$T/ts")" "SIGINT from the terminal (Ctrl-C)" "record's summary"
pm show last
expect_contains "$OUT" "SIGINT from the terminal (Ctrl-C)" "show"
pm events last
expect_contains "$OUT" "killed by SIGINT from the terminal (Ctrl-C)" "events: the exit"
expect_contains "$OUT" "signal SIGINT   the terminal (Ctrl-C) -> sleep[" "events: the signal"
case "$OUT" in *kernel*|*kworker*) fail "events still name the kernel: $OUT" ;; esac
pm events last --json
echo "$OUT" | python3 -c "
import json, sys
ev = json.load(sys.stdin)
ex = [e for e in ev if e['kind'] == 'exit' and e.get('signal') == 2][0]
sg = [e for e in ev if e['kind'] == 'signal' and e.get('signal') == 2][0]
assert ex['kill_cause'] == 'terminal' and 'forwarded_by_pid' not in ex, ex
assert sg.get('from_terminal') is True and sg['code'] == 128, sg
" || fail "events --json: $OUT"

(sleep 1; printf '\034'; sleep 1) | script -qfec "$PRESSMON record --db $DB -l quit -- sleep 30" "$T/ts" >/dev/null 2>&1
expect_eq "$?" 131 "Ctrl-\\: 128 + SIGQUIT"
expect_contains "$(tr -d '\r' <"$T/ts")" 'SIGQUIT from the terminal (Ctrl-\)' "Ctrl-\\ in the summary"

# The terminal hangs up (script(1) killed): the session leader, pressmon
# here, gets SIGHUP alone and forwards it.
sleep 10 | script -qfec "$PRESSMON record --db $DB -l hup -- sleep 30" "$T/ts" >/dev/null 2>&1 & s=$!
sleep 1.5
kill -KILL $s
# (the recorder is writing: wait for its lock rather than fail)
qw() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$DB" "$1"; }
i=0
while [ "$(qw "select state from runs where label='hup'")" != done ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "$(qw "select signal from runs where label='hup'")" 1 "the hangup ends the command"
pm events label:hup
expect_contains "$OUT" "killed by SIGHUP: the terminal hung up" "events: the hangup"

# The OOM killer and other kernel signals keep their names: a fault.
pm record -q -l segv -- python3 -c 'import ctypes; ctypes.string_at(0)'
expect_eq "$RC" 139 "SIGSEGV"
pm show last
expect_contains "$OUT" "SIGSEGV by the kernel" "a fault is still the kernel's"
echo ok

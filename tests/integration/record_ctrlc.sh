# Ctrl-C on a real terminal (a pty from script(1)) reaches the child through
# the shared process group; pressmon waits for it, records the outcome, and
# shows its live status line on the terminal.
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null || skip "script(1) not installed (bsdutils)"
(sleep 1; printf '\003'; sleep 1) | script -qfec "$PRESSMON record --db $DB -l ctrlc -- sleep 30" "$T/typescript" >/dev/null 2>&1
rc=$?
expect_eq "$rc" 130 "Ctrl-C: 128 + SIGINT"
expect_eq "$(q "select signal from runs where label='ctrlc'")" 2 "the run records SIGINT"
expect_eq "$(q "select state from runs where label='ctrlc'")" done "the run is complete"
d=$(q "select duration_ns < 5000000000 from runs where label='ctrlc'")
expect_eq "$d" 1 "ended at Ctrl-C, not after 30 s"
grep -q "pressmon ▸" "$T/typescript" || fail "no live status line on the terminal"
grep -q "SIGINT" "$T/typescript" || fail "the summary names the signal"
echo ok

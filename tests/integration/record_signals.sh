# Signals sent to pressmon reach the child; the outcome is recorded.
. "$(dirname "$0")/lib.sh"

"$PRESSMON" record -q -l term -- sh -c 'trap "exit 42" TERM; while :; do sleep 0.05; done' & p=$!
sleep 0.5; kill -TERM $p; wait $p; rc=$?
expect_eq "$rc" 42 "SIGTERM forwarded, child's status returned"
expect_eq "$(q "select exit_code from runs where label='term'")" 42 "exit recorded"

"$PRESSMON" record -q -l hup -- sleep 30 & p=$!
sleep 0.3; kill -HUP $p; wait $p; rc=$?
expect_eq "$rc" 129 "SIGHUP forwarded"
expect_eq "$(q "select signal from runs where label='hup'")" 1 "signal recorded"

# SIGINT sent to pressmon alone (not from a terminal) is passed on too.
# (A background job starts with SIGINT ignored: give it the default back.)
env --default-signal=INT "$PRESSMON" record -q -l int -- sleep 30 & p=$!
sleep 0.3; kill -INT $p; wait $p; rc=$?
expect_eq "$rc" 130 "SIGINT forwarded"
echo ok

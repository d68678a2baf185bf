# The wrapper's exit status contract, with real processes.
. "$(dirname "$0")/lib.sh"

pm record -q -- true;                      expect_eq "$RC" 0 "true"
pm record -q -- sh -c 'exit 3';            expect_eq "$RC" 3 "exit 3"
pm record -q -- sh -c 'kill -9 $$';        expect_eq "$RC" 137 "SIGKILL"
expect_eq "$(q "select signal from runs order by id desc limit 1")" 9 "run records signal 9"
expect_eq "$(q "select exit_code is null from runs order by id desc limit 1")" 1 "no exit code when signalled"
expect_eq "$(q "select outcome from runs order by id desc limit 1")" fail "signalled run fails"
pm record -q -- sh -c 'kill -TERM $$';     expect_eq "$RC" 143 "SIGTERM"
pm record -q -- sh -c 'ulimit -c 0; kill -SEGV $$'; expect_eq "$RC" 139 "SIGSEGV"

pm record -q -- no-such-command-xyz;       expect_eq "$RC" 127 "not found"
expect_contains "$ERR" "command not found" "not-found message"
printf 'echo hi\n' > noexec.sh; chmod 644 noexec.sh
pm record -q -- ./noexec.sh;               expect_eq "$RC" 126 "not executable"
expect_contains "$ERR" "noexec.sh" "not-executable message names the file"
pm record -q -- /tmp;                      expect_eq "$RC" 126 "a directory"
# None of the failures to start created a run.
expect_eq "$(q "select count(*) from runs")" 5 "runs created only for started commands"

# stdout/stderr/stdin of the child pass through untouched.
out=$(echo piped | "$PRESSMON" record -q -- sh -c 'cat; echo err >&2' 2>"$T/e")
expect_eq "$out" piped "stdin/stdout pass through"
expect_eq "$(cat "$T/e")" err "stderr passes through"
echo ok

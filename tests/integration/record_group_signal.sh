# A signal sent to pressmon's whole process group reaches the command once.
# Without a controlling terminal (CI) the command leads a process group of
# its own: `kill -TERM -PGID` reaches pressmon alone, which forwards it;
# GNU timeout signals pressmon, then its own group, and pressmon forwards
# the burst once.  The command counts the SIGINT/SIGTERM it gets while it
# "cleans up" for 0.5 s (a second copy used to arrive then).  The command
# still has pressmon's stdin, stdout and stderr, and its status comes back.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 not installed"
cat >"$T/counter.py" <<'PY'
import signal, sys, time
out, ready = sys.argv[1], sys.argv[2]
n = 0
def on(sig, frame):
    global n
    n += 1
signal.signal(signal.SIGINT, on)
signal.signal(signal.SIGTERM, on)
open(ready, "w").close()
end = time.monotonic() + 20
while n == 0 and time.monotonic() < end:
    time.sleep(0.01)
time.sleep(0.5)  # cleaning up: a second copy would arrive now
with open(out, "w") as f:
    f.write(str(n))
PY
cat >"$T/harness.py" <<'PY'
import os, signal, subprocess, sys, time
pm, db, how, d = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
out, ready = os.path.join(d, "count." + how), os.path.join(d, "ready." + how)
cmd = [pm, "record", "-q", "--db", db, "-l", how, "--", "python3", os.path.join(d, "counter.py"), out, ready]
if how == "timeout":
    cmd = ["timeout", "-s", "TERM", "2", *cmd]
# A new session: no controlling terminal, pressmon leads its own group.
p = subprocess.Popen(cmd, start_new_session=True)
end = time.monotonic() + 10
while not os.path.exists(ready) and time.monotonic() < end:
    time.sleep(0.01)
if how == "killpg":
    os.killpg(p.pid, signal.SIGTERM)
rc = p.wait(timeout=30)
print(rc, open(out).read() if os.path.exists(out) else "none")
PY

set -- $(python3 "$T/harness.py" "$PRESSMON" "$DB" killpg "$T")
expect_eq "$1" 0 "kill -TERM -PGID: the command's status"
expect_eq "$2" 1 "kill -TERM -PGID: signals the command got"
expect_eq "$(q "select exit_code from runs where label='killpg'")" 0 "the run's exit"

if command -v timeout >/dev/null; then
    set -- $(python3 "$T/harness.py" "$PRESSMON" "$DB" timeout "$T")
    expect_eq "$1" 124 "timeout(1): its status"
    expect_eq "$2" 1 "timeout(1) signals pressmon and its group: signals the command got"
fi

# kill -TERM to pressmon alone still reaches the command, once.
setsid "$PRESSMON" record -q -l alone -- sh -c 'trap "exit 42" TERM; while :; do sleep 0.05; done' & p=$!
sleep 0.5; kill -TERM $p; wait $p; rc=$?
expect_eq "$rc" 42 "SIGTERM to pressmon alone is forwarded"

# The command reads pressmon's stdin and writes its stdout, in its own group.
out=$(echo hi | setsid "$PRESSMON" record -q -l stdin -- cat)
expect_eq "$out" hi "stdin and stdout are the command's"
out=$(setsid "$PRESSMON" record -q -l stderr -- sh -c 'echo oops >&2' 2>&1)
expect_eq "$out" oops "stderr is the command's"
# ... and its group is its own (not pressmon's) without a terminal.
setsid "$PRESSMON" record -q -l pgid -- sh -c 'ps -o pgid= -p $$ > pgid.txt; ps -o pgid= -p $PPID > ppgid.txt'
[ "$(tr -d ' ' <pgid.txt)" != "$(tr -d ' ' <ppgid.txt)" ] || fail "the command shares pressmon's process group"

# A SIGKILL to pressmon's group cannot be forwarded: the command, in its own
# group, must die with pressmon all the same (timeout -k, a CI runner's
# kill -9 -PGID), children included, and not run on as an orphan.  (No
# tracefs instance: one left by the killed pressmon would wait for the next
# run to take it over.)
marker=pmorph$$
cp "$(command -v sleep)" "$T/$marker"
PRESSMON_ATTRIBUTION=off setsid "$PRESSMON" record -q -l kill9 -- sh -c "\"$T/$marker\" 300 & exec \"$T/$marker\" 301" \
    </dev/null >/dev/null 2>&1 & p=$!
i=0; while [ "$(pgrep -c -x "$marker")" -lt 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
expect_eq "$(pgrep -c -x "$marker")" 2 "the command and its child started"
python3 -c "import os, signal, sys; os.killpg(int(sys.argv[1]), signal.SIGKILL)" $p
i=0; while pgrep -x "$marker" >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if pgrep -x "$marker" >/dev/null; then
    pkill -KILL -x "$marker"
    fail "SIGKILL to pressmon's group left the command running"
fi
# A run that ends normally leaves its command's group alone (the watchdog
# goes without a kill): a daemon it started outlives it.
setsid "$PRESSMON" record -q -l calm -- sh -c "\"$T/$marker\" 30 & exit 0" </dev/null >/dev/null 2>&1
sleep 0.3
pgrep -x "$marker" >/dev/null || fail "a normal end killed the command's group"
pkill -x "$marker"
echo ok

#!/bin/sh
# record's live status line on a terminal (stderr a TTY): never wider than
# the terminal, so that each redraw ("\r\033[K") overwrites the last one
# instead of leaving wrapped rows behind; a resize is followed.  A real pty,
# 60 columns, then 40.
. "$(dirname "$0")/lib.sh"
python3 -c 'import pty, fcntl, termios' 2>/dev/null || skip "python3 with pty/termios needed"

python3 - "$PRESSMON" "$DB" >"$T/widths" 2>"$T/pty.err" <<'PY' || fail "pty run: $(cat "$T/pty.err")"
import fcntl, os, pty, re, select, struct, sys, termios, time, unicodedata

pressmon, db = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(pressmon, [pressmon, "record", "--db", db, "--", "sleep", "2.5"])
def setcols(c):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, c, 0, 0))
setcols(60)
out, t0, resized = b"", time.monotonic(), False
while True:
    if not resized and time.monotonic() - t0 > 1.2:
        out += b"\n--resized--\n"
        setcols(40)
        resized = True
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            b = os.read(fd, 65536)
        except OSError:
            break
        if not b:
            break
        out += b
_, status = os.waitpid(pid, 0)
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit("record exited %d: %r" % (os.waitstatus_to_exitcode(status), out[-500:]))

def cols(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else
               0 if unicodedata.combining(c) else 1 for c in s)

limit = 60
for seg in re.split(r"[\r\n]", out.decode("utf-8")):
    if seg == "--resized--":
        limit = 40
        continue
    seg = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", seg)
    if seg.startswith("pressmon \u25b8"):
        print(limit, cols(seg), seg)
PY
[ -s "$T/widths" ] || fail "no status line seen on the pty"
expect_ge "$(awk '$1 == 60' "$T/widths" | wc -l)" 2 "status lines at 60 columns"
expect_ge "$(awk '$1 == 40' "$T/widths" | wc -l)" 2 "status lines after the resize to 40 columns"
awk '$2 > $1 { print "status line of " $2 " columns on a " $1 "-column terminal: " $0; bad = 1 } END { exit bad }' \
    "$T/widths" >&2 || fail "status line wider than the terminal"
# The line is cut, not dropped: it fills the terminal but for the last column.
expect_ge "$(awk '$1 == 60 { print $2 }' "$T/widths" | sort -n | tail -1)" 50 "status line uses the width"
echo ok

#!/bin/sh
# Re-capture the live Linux fixture set for the procfs parser tests
# (tests/unit/test_procfs.c) from the machine this runs on.
#
#   tools/capture-fixtures.sh [DEST]
#
# DEST defaults to tests/fixtures/proc/linux-MAJOR.MINOR of the running
# kernel.  The hand-written older-kernel layouts and the damaged variants
# (see tests/fixtures/proc/README) are not produced here.
#
# Per-process files come from a helper started here with a hostile name:
# a copy of /bin/sh called "(a) b)", so /proc/PID/stat carries a comm with
# a space and a ')' inside, and its cmdline carries an argument with
# spaces.  It burns a little CPU and writes to /dev/null first so utime,
# minflt and wchar are not all zero.  Run as root (or as the same user) so
# /proc/PID/io is readable.
set -eu

rel=$(uname -r)
mm=$(echo "$rel" | cut -d. -f1-2)
dest=${1:-tests/fixtures/proc/linux-$mm}
mkdir -p "$dest/pressure" "$dest/pid"

copy() { # copy SRC DST: one file, failing loudly if it cannot be read
    cat "$1" >"$2" || { echo "capture-fixtures: cannot read $1" >&2; exit 1; }
}

for f in meminfo vmstat stat loadavg; do copy "/proc/$f" "$dest/$f"; done
for f in cpu memory io; do
    if [ -r "/proc/pressure/$f" ]; then copy "/proc/pressure/$f" "$dest/pressure/$f"
    else echo "capture-fixtures: /proc/pressure/$f absent (no PSI on this kernel), skipped" >&2; fi
done

tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cp /bin/sh "$tmp/(a) b)"
"$tmp/(a) b)" -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo x >/dev/null
                  sleep 5; : "an argument with spaces"' &
pid=$!
sleep 1
for f in stat statm schedstat io cmdline cgroup; do copy "/proc/$pid/$f" "$dest/pid/$f"; done

# cgroup v2 files: the unified hierarchy is /sys/fs/cgroup on a pure-v2
# system and /sys/fs/cgroup/unified on a hybrid one.
cg=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    [ -r "$d/cgroup.controllers" ] && { cg=$d; break; }
done
if [ -n "$cg" ]; then
    mkdir -p "$dest/cgroup2"
    for f in memory.pressure memory.events memory.current cpu.pressure io.pressure; do
        if [ -r "$cg/$f" ]; then copy "$cg/$f" "$dest/cgroup2/$f"
        else echo "capture-fixtures: $cg/$f absent, skipped" >&2; fi
    done
fi
echo "$rel" >"$dest/KERNEL"
echo "capture-fixtures: captured kernel $rel into $dest"

#!/bin/sh
# A small stand-in for a test run that dies under load (the seed incident):
# CPU workers, a memory hog, an IO writer, and one process that a "watchdog"
# kills with SIGKILL.  About 4 s, bounded: ~300 MiB of memory, ~200 MiB of disk.
#
#   examples/stress.sh          the watchdog kill happens, the script still exits 0
#   examples/stress.sh --fail   the script exits with the victim's status (137)
#
# Record it:  pressmon record -- examples/stress.sh
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pm-stress-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# CPU: one compressor per CPU for ~3 s.
n=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
i=0
while [ "$i" -lt "$n" ]; do
    timeout 3 sh -c 'head -c 2000000000 /dev/zero | gzip -1 > /dev/null' &
    i=$((i + 1))
done

# Memory: grow to ~300 MiB in steps, hold, release.
perl -e 'my @a; for (1..30) { push @a, "x" x (10 * 1024 * 1024); select(undef, undef, undef, 0.05) } sleep 1' &

# IO: write and sync ~200 MiB.
dd if=/dev/zero of="$tmp/io" bs=1M count=200 conv=fsync status=none &

# The victim and its watchdog: the kind of SIGKILL pressmon attributes.
sleep 30 &
victim=$!
(sleep 1.5; kill -KILL "$victim") &

wait "$victim"
status=$?
wait
echo "stress: victim $victim ended with status $status" >&2
if [ "${1:-}" = --fail ]; then
    exit "$status"
fi
exit 0

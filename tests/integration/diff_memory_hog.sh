#!/bin/sh
# Real end to end: record a run with a memory hog and one without, then
# diff must rank a memory metric above every CPU one, in text, JSON and
# Markdown.
set -u
: "${PRESSMON:?set PRESSMON to the pressmon binary}"
command -v perl >/dev/null || { echo "perl is needed for the memory hog" >&2; exit 77; }
command -v jq >/dev/null || { echo "jq is needed to read diff --json" >&2; exit 77; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
db=$dir/t.db
"$PRESSMON" record --db "$db" --quiet --label calm -- sleep 2 || { echo "record calm failed"; exit 1; }
# 400 MiB touched then held: memory moves, CPU barely.
"$PRESSMON" record --db "$db" --quiet --label hog -- \
    perl -e '$x = "a" x (400 * 1024 * 1024); sleep 2' || { echo "record hog failed"; exit 1; }

"$PRESSMON" diff --db "$db" label:hog label:calm --json > "$dir/d.json" || { echo "diff failed"; exit 1; }
mem=$(jq '[.metrics | to_entries[] | select(.value.significant and (.value.key | test("mem|rss|swap"))) | .key] | min // 999' "$dir/d.json")
cpu=$(jq '[.metrics | to_entries[] | select(.value.key | test("cpu")) | .key] | min // 999' "$dir/d.json")
echo "best memory rank $mem, best cpu rank $cpu"
[ "$mem" -lt 999 ] || { echo "no significant memory metric"; jq '.metrics[:8] | map(.key, .reading)' "$dir/d.json"; exit 1; }
[ "$mem" -lt "$cpu" ] || { echo "a CPU metric ranks above memory"; jq '.metrics[:8] | map(.key)' "$dir/d.json"; exit 1; }
# the hog's process is matched and its peak RSS seen
jq -e '.processes[] | select(.command | startswith("perl")) | .a.peak_rss_bytes > 300*1024*1024' "$dir/d.json" >/dev/null \
    || { echo "perl process with its peak RSS not found"; jq .processes "$dir/d.json"; exit 1; }

# text: the reading is plain language; no escape codes when not a TTY
"$PRESSMON" diff --db "$db" label:hog label:calm > "$dir/d.txt" || exit 1
grep -q "higher in run\|lower in run" "$dir/d.txt" || { echo "no reading in text output"; cat "$dir/d.txt"; exit 1; }
if grep -q "$(printf '\033')" "$dir/d.txt"; then echo "escape codes in non-TTY output"; exit 1; fi
"$PRESSMON" diff --db "$db" label:hog label:calm --markdown > "$dir/d.md" || exit 1
grep -q '^| 1 |' "$dir/d.md" || { echo "markdown table missing"; cat "$dir/d.md"; exit 1; }
"$PRESSMON" diff --db "$db" last~1 last --top 3 > /dev/null || { echo "last~1 last failed"; exit 1; }
echo ok

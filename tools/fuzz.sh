#!/bin/sh
# make fuzz: libFuzzer on every parser (tests/fuzz/fuzz_parsers.c).
#   tools/fuzz.sh BUILD_DIR SECONDS
# The working corpus (BUILD_DIR/corpus) starts from tests/fuzz/corpus and
# every fixture file prefixed with each parser's byte, and grows across runs.
# An input that breaks a parser is written to BUILD_DIR/crashes/; replay it
# with build/tests/fuzz_replay FILE, fix the parser, and add the input to
# tests/fuzz/corpus/ so that make test replays it from then on.
set -eu
b=$1; secs=$2
ntargets=$(sed -n 's/^#define NTARGETS \([0-9]*\).*/\1/p' tests/fuzz/fuzz_parsers.c)
[ -n "$ntargets" ] || { echo "fuzz.sh: no NTARGETS in tests/fuzz/fuzz_parsers.c"; exit 1; }
mkdir -p "$b/corpus" "$b/crashes"
cp tests/fuzz/corpus/* "$b/corpus/" 2>/dev/null || true
if [ ! -e "$b/corpus/.seeded" ]; then
    find tests/fixtures -type f -size -64k ! -name '*.db' ! -name '*.csv' | while read -r f; do
        t=0
        while [ $t -lt $ntargets ]; do
            n=$(printf '%s' "$f" | cksum | cut -d' ' -f1)
            { printf "\\$(printf '%03o' $t)"; cat "$f"; } > "$b/corpus/fx-$n-$t"
            t=$((t + 1))
        done
    done
    touch "$b/corpus/.seeded"
fi
echo "fuzzing every parser for $secs s ($(ls "$b/corpus" | wc -l) inputs to start from)"
rc=0
"$b/fuzz_parsers" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$b/crashes/" "$b/corpus" 2>"$b/fuzz.log" || rc=$?
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' "$b/fuzz.log" || true
if [ $rc -ne 0 ]; then
    tail -n 40 "$b/fuzz.log"
    echo "make fuzz: a parser broke; the input is in $b/crashes/ (replay: build/tests/fuzz_replay FILE)"
    exit 1
fi
echo "make fuzz: no parser broke in $secs s"

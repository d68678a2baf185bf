#!/bin/sh
# Labels in the tables of runs, rm and prune: the column is as wide as the
# widest label listed (at most 40 columns), a longer label is cut on a
# character boundary and ends in "…", and rows line up by terminal columns
# (é is one, 日 two), whatever the locale.
. "$(dirname "$0")/lib.sh"

long=$(printf 'x%.0s' $(seq 1 60))
for l in integration-tests-linux-x86 integration-tests-linux-arm éééééééééééééééééé 日本語のラベルテスト; do
    pm record -q -l "$l" -- true
    expect_eq "$RC" 0 "record -l $l"
done

# check_table WHAT SKIP_COLS: every line of $OUT is valid UTF-8, and after the
# first SKIP_COLS columns (the run id and what precedes it) the column that
# follows the label starts at the same terminal column on every line.
check_table() {
    printf '%s\n' "$OUT" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 || fail "$1: not valid UTF-8: $OUT"
    cols=$(printf '%s\n' "$OUT" | python3 -c '
import sys, unicodedata
skip = int(sys.argv[1])
def w(s): return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
for line in sys.stdin.read().splitlines():
    if not line.strip() or line.startswith(("would delete ", "deleted ")) and " run" in line and "samples" not in line:
        continue
    rest = line[skip:]
    # the label ends where two spaces precede the next column (a date or "STARTED")
    i = max(rest.find("  2"), rest.find("  STARTED"))
    print(w(line[:skip]) + w(rest[:i]))
' "$2" | sort -u)
    expect_eq "$(printf '%s\n' "$cols" | wc -l | tr -d ' ')" 1 "$1: the column after the label starts at one column on every line (starts: $(echo $cols))"
}

# LC_ALL=C and a UTF-8 locale give the same bytes.
OUT_C=$(LC_ALL=C "$PRESSMON" runs -n4)
pm runs -n4
expect_eq "$RC" 0 "runs"
expect_eq "$(LC_ALL=C.UTF-8 "$PRESSMON" runs -n4)" "$OUT_C" "runs prints the same bytes in C and C.UTF-8 locales"
expect_eq "$OUT" "$OUT_C" "runs prints the same bytes whatever the locale"
for l in integration-tests-linux-x86 integration-tests-linux-arm éééééééééééééééééé 日本語のラベルテスト; do
    expect_contains "$OUT" "$l  " "runs shows the whole label '$l'"
done
case "$OUT" in *…*) fail "runs cut a label that fits: $OUT" ;; esac
check_table "runs" 18

# A 60-character label: cut to 40 columns, ending in the ellipsis.
pm record -q -l "$long" -- true
pm runs -n5
expect_contains "$OUT" "$(printf 'x%.0s' $(seq 1 39))…  " "runs cuts a 60-column label to 40 with an ellipsis"
check_table "runs with a long label" 18
# ... and a long Japanese one on a character boundary: 19 characters (38
# columns) and the ellipsis; a 20th would make 41.
ja=日本語のラベルテスト日本語のラベルテスト日本語のラベルテスト
pm record -q -l "$ja" -- true
pm runs -n6
expect_contains "$OUT" "日本語のラベルテスト日本語のラベルテス…   2" "runs cuts a wide label on a character"
check_table "runs with a long wide label" 18

# rm and prune print the same column.
pm rm --dry-run last last~1 last~3 last~5
expect_eq "$RC" 0 "rm --dry-run"
expect_contains "$OUT" "éééééééééééééééééé  " "rm shows the whole label"
check_table "rm --dry-run" 30
pm prune --dry-run --keep 0
expect_eq "$RC" 0 "prune --dry-run"
expect_contains "$OUT" "日本語のラベルテスト  " "prune shows the whole Japanese label"
expect_contains "$OUT" "integration-tests-linux-arm  " "prune shows the whole label"
check_table "prune --dry-run" 30
echo ok
